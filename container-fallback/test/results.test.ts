// What a Python function hands back is checked by the host, not taken from the
// shim: the shim runs in the function's process, so a function that replaces
// json.dumps there can make the shim report anything as its result.
import { ContainerExecutor } from '@osiris/container-fallback'
import { OsirisError } from '@osiris/proto'
import t, { type Test } from 'tap'
import { CodeCache } from '../../isolate-host/src/code-cache.ts'
import { engine, pythonImage } from './helpers/engine.ts'

const SOURCE = `import json

_real_dumps = json.dumps

def forged(text):
    json.dumps = lambda value, **options: text if value == "forged" else _real_dumps(value, **options)
    return "forged"

def add(a, b):
    json.dumps = _real_dumps
    return a + b
`

async function harness(t: Test) {
  const docker = await engine(t)
  await pythonImage(docker)
  const cache = new CodeCache(async (hash) => {
    throw new OsirisError('NOT_FOUND', `no code ${hash}`)
  }, 1 << 20)
  const executor = new ContainerExecutor({
    runtimes: ['python'],
    poolTarget: 1,
    limits: { memoryMb: 64 },
    code: (hash) => cache.get(hash),
    keepCode: (code) => void cache.put(code),
  })
  t.teardown(() => executor.close(0))
  await executor.ready()
  const codeHash = cache.put((await executor.validate('python', SOURCE, 'results.py')).code)
  let n = 0
  return (functionName: string, args: string[] = []) =>
    executor.invoke({
      callId: `r${++n}`,
      functionName,
      module: 'results',
      version: 1,
      codeHash,
      args,
      timeoutMs: 10_000,
      runtime: 'python',
    })
}

async function failure(promise: Promise<unknown>): Promise<OsirisError> {
  const error = await promise.then(
    (r) => new Error(`the call answered ${JSON.stringify(r).slice(0, 200)}`),
    (e: unknown) => e,
  )
  if (!(error instanceof OsirisError)) throw error
  return error
}

t.test('a result the function forged by replacing json.dumps is RESULT_NOT_JSON, never a 200', async (t) => {
  const call = await harness(t)
  const html = await failure(call('forged', ['"<html>not json</html>"']))
  t.equal(html.code, 'RESULT_NOT_JSON')
  t.match(html.message, /^function "forged" answered a result that is not JSON \(/)
  t.equal(html.breach, undefined)
  const deep = await failure(call('forged', [JSON.stringify(`${'['.repeat(5000)}${']'.repeat(5000)}`)]))
  t.equal(deep.code, 'RESULT_NOT_JSON')
  t.equal(
    deep.message,
    'function "forged" returned a value that cannot be encoded as JSON: it nests deeper than 128 levels',
  )
  t.equal(deep.breach, 'result')
  const big = await failure(call('forged', [JSON.stringify(`"${'x'.repeat(2 * 1024 * 1024)}"`)]))
  t.equal(big.code, 'PAYLOAD_TOO_LARGE')
  t.equal(big.breach, 'result')
  t.equal((await call('add', ['2', '3'])).result, '5', 'the function keeps serving')
})
