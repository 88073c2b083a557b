// The shared Executor conformance suite, run against the isolate executor
// (V8 isolates, JavaScript) and the container executor (the real engine,
// Python), so both backends keep one contract.
import { ContainerExecutor } from '@osiris/container-fallback'
import { OsirisError } from '@osiris/proto'
import t from 'tap'
import { CodeCache } from '../../isolate-host/src/code-cache.ts'
import { IsolateExecutor } from '../../isolate-host/src/isolate-executor.ts'
import { LABEL_OWNER_PID } from '../src/container.ts'
import { conformance } from './helpers/conformance.ts'
import { containersLabelled, engine, pythonImage } from './helpers/engine.ts'

const noController = async (hash: string): Promise<string> => {
  throw new OsirisError('NOT_FOUND', `no code with hash ${hash} (no controller in this test)`)
}

conformance(t, {
  name: 'isolate executor',
  runtime: 'js',
  sources: {
    module: `export function add(a, b) { return a + b }
export function echo(x) { return x }
export async function later(x) { await null; return x + '!' }
export function fail() { throw new TypeError('nope') }
export function spin() { for (;;) {} }
export function hog() { const all = []; for (;;) all.push(new Array(1e6).fill(1)) }
export function big(n) { return 'x'.repeat(n) }
`,
    errorName: 'TypeError',
    broken: 'export function ok() { return 1 }\nexport function bad() { return 1 +* 2 }\n',
    brokenLine: 2,
    extension: '.js',
    poison: `export function add(a, b) { return 'poisoned' }
export function echo(x) { return x }
`,
  },
  async make(t, { idleTtlMs }) {
    const executor = new IsolateExecutor({
      poolTarget: 1,
      memoryLimitMb: 64,
      maxInstances: 16,
      loadTimeoutMs: 1000,
      idleTtlMs,
      codeCache: new CodeCache(noController, 1 << 20),
      onLog: () => {},
      onChange: () => {},
    })
    t.teardown(() => executor.close(0))
    return executor
  },
})

conformance(t, {
  name: 'container executor',
  runtime: 'python',
  sources: {
    module: `import asyncio

def add(a, b):
    return a + b

def echo(x):
    return x

async def later(x):
    await asyncio.sleep(0)
    return x + "!"

def fail():
    raise ValueError("nope")

def spin():
    while True:
        pass

def hog():
    hoard = []
    while True:
        hoard.append(" " * 1_000_000)

def big(n):
    return "x" * n
`,
    errorName: 'ValueError',
    broken: 'def ok():\n    return 1 +\n',
    brokenLine: 2,
    extension: '.py',
    poison: 'def add(a, b):\n    return "poisoned"\n',
  },
  async make(t, { idleTtlMs }) {
    const docker = await engine(t)
    await pythonImage(docker)
    const codes = new Map<string, string>()
    const executor = new ContainerExecutor({
      runtimes: ['python'],
      poolTarget: 1,
      idleTtlMs,
      code: async (hash) => codes.get(hash) ?? noController(hash),
      keepCode: (code) => {
        const hash = new CodeCache(noController, 1 << 20).put(code)
        codes.set(hash, code)
      },
    })
    t.teardown(() => executor.close(0))
    await executor.ready()
    return executor
  },
})

t.test('no container is left once every container executor has closed', async (t) => {
  const docker = await engine(t)
  t.same(await containersLabelled(docker, `${LABEL_OWNER_PID}=${process.pid}`), [])
})
