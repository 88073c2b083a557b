// What a Python function cannot do in its container, on the real engine:
// exhaust memory, fork without bound, write outside /tmp, reach the network,
// escape its deadline (the container is killed), or survive a kill between
// calls unnoticed (the next call gets a new container).

import { ContainerExecutor, type DockerClient } from '@osiris/container-fallback'
import { OsirisError } from '@osiris/proto'
import t, { type Test } from 'tap'
import { CodeCache } from '../../isolate-host/src/code-cache.ts'
import type { InvokeParams } from '../../isolate-host/src/executor.ts'
import { LABEL_OWNER_PID } from '../src/container.ts'
import { containersLabelled, engine, eventually, pythonImage } from './helpers/engine.ts'

const SOURCE = `import os, socket, time

def add(a, b):
    return a + b

def whoami():
    status = open("/proc/self/status").read()
    return {"uid": os.getuid(), "caps": status.split("CapEff:")[1].split()[0],
            "nnp": status.split("NoNewPrivs:")[1].split()[0]}

def memory_bomb():
    hog = []
    while True:
        hog.append(" " * 1_000_000)

def fork_bomb():
    children = 0
    try:
        while True:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            children += 1
    except OSError as error:
        return [children, type(error).__name__]

def write(path):
    with open(path, "w") as f:
        f.write("x")
    return open(path).read()

def connect():
    socket.create_connection(("10.0.0.1", 80), timeout=2)

def nap():
    time.sleep(60)

def spin():
    while True:
        pass
`

const PIDS = 32

interface Harness {
  docker: DockerClient
  executor: ContainerExecutor
  call(
    functionName: string,
    args?: string[],
    timeoutMs?: number,
    limits?: InvokeParams['limits'],
  ): ReturnType<ContainerExecutor['invoke']>
  /** Ids of this executor's containers specialized for the module. */
  containers(): Promise<string[]>
}

async function harness(t: Test): Promise<Harness> {
  const docker = await engine(t)
  await pythonImage(docker)
  const cache = new CodeCache(async (hash) => {
    throw new OsirisError('NOT_FOUND', `no code ${hash}`)
  }, 1 << 20)
  const executor = new ContainerExecutor({
    runtimes: ['python'],
    poolTarget: 1,
    limits: { memoryMb: 64, pids: PIDS },
    code: (hash) => cache.get(hash),
    keepCode: (code) => void cache.put(code),
  })
  t.teardown(() => executor.close(0))
  await executor.ready()
  const { code } = await executor.validate('python', SOURCE, 'limits.py')
  const codeHash = cache.put(code)
  let n = 0
  return {
    docker,
    executor,
    call: (functionName, args = [], timeoutMs = 10_000, limits = null) =>
      executor.invoke({
        callId: `c${++n}`,
        functionName,
        module: 'limits',
        version: 1,
        codeHash,
        args,
        timeoutMs,
        limits,
        runtime: 'python',
      }),
    containers: async () =>
      (await docker.listContainers([executor.label])).filter((c) => c.State === 'running').map((c) => c.Id),
  }
}

async function failure(promise: Promise<unknown>): Promise<OsirisError> {
  const error = await promise.then(
    () => new Error('the call succeeded'),
    (e: unknown) => e,
  )
  if (!(error instanceof OsirisError)) throw error
  return error
}

t.test('the function runs as nobody with no capabilities and no-new-privileges', async (t) => {
  const h = await harness(t)
  t.same(JSON.parse((await h.call('whoami')).result), { uid: 65534, caps: '0000000000000000', nnp: '1' })
})

t.test('a memory bomb is RESOURCE_EXHAUSTED and its container is replaced', async (t) => {
  const h = await harness(t)
  const error = await failure(h.call('memory_bomb'))
  t.equal(error.code, 'RESOURCE_EXHAUSTED', error.message)
  t.match(error.message, /memory_bomb.*memory limit of 64 MiB/)
  const after = await h.call('add', ['1', '2'])
  t.same([after.result, after.coldStart], ['3', true], 'the next call runs in a new container')
})

t.test('a fork bomb stays inside its pids limit', async (t) => {
  const h = await harness(t)
  const [children, errorName] = JSON.parse((await h.call('fork_bomb')).result) as [number, string]
  t.equal(errorName, 'BlockingIOError', 'fork fails with EAGAIN once the limit is reached')
  t.ok(children > 0 && children < PIDS, `${children} children, under the limit of ${PIDS}`)
  t.equal((await h.call('add', ['2', '3'])).result, '5', 'the function keeps serving')
})

t.test('the root filesystem is read-only; /tmp is writable', async (t) => {
  const h = await harness(t)
  const error = await failure(h.call('write', ['"/etc/osiris"']))
  t.equal(error.code, 'FUNCTION_ERROR')
  t.match(error.message, /OSError: \[Errno 30\] Read-only file system/)
  const mounted = await failure(h.call('write', ['"/run/osiris/x"']))
  t.match(mounted.message, /Read-only file system/, 'the socket directory is read-only too')
  t.equal((await h.call('write', ['"/tmp/ok"'])).result, '"x"')
})

t.test('there is no network inside the container', async (t) => {
  const h = await harness(t)
  const error = await failure(h.call('connect'))
  t.equal(error.code, 'FUNCTION_ERROR')
  t.match(error.message, /OSError: \[Errno 101\] Network is unreachable/)
})

t.test('a call past its deadline is DEADLINE_EXCEEDED and its container is gone', async (t) => {
  const h = await harness(t)
  await h.call('add', ['1', '1'])
  const [id] = h.executor.containersOf(1)
  t.ok(id, 'the warm container of the function')
  const error = await failure(h.call('spin', [], 0, { timeoutMs: 1000 }))
  t.equal(error.code, 'DEADLINE_EXCEEDED')
  t.equal(error.message, 'function "spin" ran past its 1000 ms limit; its container was killed', 'the limit as set')
  await eventually(async () => (await h.docker.inspectContainer(id ?? 'none')) === undefined, 'container removal')
  t.pass('the container that ran spin is gone')
  const caller = await failure(h.call('spin', [], 800, { timeoutMs: 5000 }))
  t.equal(caller.code, 'DEADLINE_EXCEEDED')
  t.match(
    caller.message,
    /^function "spin" had not finished at the caller's deadline \(it ran \d+ ms\); its container was killed$/,
    "a sooner caller's deadline is reported as the caller's",
  )
})

t.test('a warm container killed between calls: the next call succeeds on a new one', async (t) => {
  const h = await harness(t)
  t.equal((await h.call('add', ['1', '2'])).coldStart, true)
  t.equal((await h.call('add', ['1', '2'])).coldStart, false, 'warm')
  const warm = h.executor.status().instances
  t.equal(warm.length, 1)
  const running = await h.containers()
  // Kill every container of this executor: the warm instance and the pool's.
  await Promise.all(running.map((id) => h.docker.killContainer(id)))
  await eventually(() => h.executor.status().instances.length === 0, 'the killed instance leaving')
  const next = await h.call('add', ['20', '22'])
  t.same([next.result, next.coldStart], ['42', true])
})

t.test('a container killed during a call ends it with UNAVAILABLE; the next call gets a new one', async (t) => {
  const h = await harness(t)
  await h.call('add', ['1', '1'])
  const [id] = h.executor.containersOf(1)
  const napping = failure(h.call('nap'))
  await eventually(() => h.executor.status().inFlight === 1 && h.executor.status().instances[0]?.busy === 1, 'nap')
  await h.docker.killContainer(id ?? 'none')
  const error = await napping
  t.equal(error.code, 'UNAVAILABLE')
  t.match(
    error.message,
    /the container running "nap" ended during the call \(exit code \d+\); a new one takes its place/,
  )
  const next = await h.call('add', ['2', '2'])
  t.same([next.result, next.coldStart], ['4', true])
})

t.test('limits a call leaves at 0 (unset in the wire message) take the defaults, never "unlimited"', async (t) => {
  const h = await harness(t)
  const zero = (functionName: string) =>
    h.call(functionName, functionName === 'add' ? ['2', '3'] : [], 0, { memoryMb: 0, timeoutMs: 0, maxResultBytes: 0 })
  t.equal((await zero('add')).result, '5', 'a timeout of 0 is not an immediate deadline')
  const memory = await failure(zero('memory_bomb'))
  t.equal(memory.code, 'RESOURCE_EXHAUSTED')
  t.match(memory.message, /memory limit of 64 MiB/, 'the executor default still holds')
})

t.test('no container is left once every executor has closed', async (t) => {
  const docker = await engine(t)
  t.same(await containersLabelled(docker, `${LABEL_OWNER_PID}=${process.pid}`), [])
})
