// Nothing a call starts outlives it: processes it spawned are killed when it
// answers (they kept a core busy until the idle timeout), a thread it left
// behind gets its container recycled, and output on the shim socket with no
// request pending (a left-behind thread writing large JSON lines, with the
// shim's own safeguard patched out by the tenant) is a protocol violation
// that discards the container, never parsed as an answer. A neighbour
// function in its own container answers throughout.
import { OsirisError } from '@osiris/proto'
import t, { type Test } from 'tap'
import { CodeCache } from '../../isolate-host/src/code-cache.ts'
import { ContainerExecutor } from '../src/container-executor.ts'
import { engine, eventually, pythonImage } from './helpers/engine.ts'

const SOURCE = `import os, subprocess, sys, threading, time

def add(a, b):
    return a + b

def spawn_child():
    subprocess.Popen([sys.executable, "-c", "while True: pass"])
    if os.fork() == 0:
        while True:
            pass
    return "spawned"

def leave_thread():
    threading.Thread(target=lambda: time.sleep(3600), daemon=True).start()
    return "left"

def talk_outside_calls():
    # The shim's own safeguard (exit when a call leaves a thread) patched out, as a tenant can.
    sys.modules["__main__"].thread_count = lambda: 0
    fd = None
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name).startswith("socket:"):
                fd = int(name)
        except OSError:
            pass
    line = ('{"result": "\\\\"forged\\\\"", "pad": "' + "x" * 1_000_000 + '"}\\n').encode()
    def talk():
        time.sleep(0.05)
        for _ in range(50):
            os.write(fd, line)
    threading.Thread(target=talk, daemon=True).start()
    return "talking"
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
    code: (hash) => cache.get(hash),
    keepCode: (code) => void cache.put(code),
  })
  t.teardown(() => executor.close(0))
  await executor.ready()
  const codeHash = cache.put((await executor.validate('python', SOURCE, 'left.py')).code)
  const neighbourHash = cache.put(
    (await executor.validate('python', 'def neighbour(n):\n    return n + 1\n', 'neighbour.py')).code,
  )
  let n = 0
  const call = (functionName: string, args: string[] = []) =>
    executor.invoke({
      callId: `c${++n}`,
      functionName,
      module: 'left',
      version: 1,
      codeHash,
      args,
      timeoutMs: 10_000,
      runtime: 'python',
    })
  let answered = 0
  const failures: unknown[] = []
  let running = true
  const neighbour = (async () => {
    while (running) {
      await executor
        .invoke({
          callId: `n${++n}`,
          functionName: 'neighbour',
          module: 'neighbour',
          version: 2,
          codeHash: neighbourHash,
          args: [String(answered)],
          timeoutMs: 10_000,
          runtime: 'python',
        })
        .then(
          (r) => {
            if (r.result === String(answered + 1)) answered++
            else failures.push(r.result)
          },
          (error: unknown) => failures.push(error),
        )
    }
  })()
  t.teardown(() => {
    running = false
    return neighbour
  })
  const stopNeighbour = async () => {
    running = false
    await neighbour
    t.same(failures, [], 'the neighbour never failed')
    t.ok(answered > 0, `the neighbour answered ${answered} calls meanwhile`)
  }
  return { docker, executor, call, stopNeighbour }
}

t.test('processes a call spawned are killed when it answers; the container stays warm', async (t) => {
  const h = await harness(t)
  t.equal((await h.call('spawn_child')).result, '"spawned"')
  const [id] = h.executor.containersOf(1)
  if (!id) throw new Error('no container for version 1')
  const processes = await h.docker.processes(id)
  t.equal(processes.length, 2, `only init and the shim are left: ${processes.join(' | ')}`)
  const next = await h.call('add', ['1', '2'])
  t.same([next.result, next.coldStart], ['3', false], 'the container keeps serving, warm')
  t.same(h.executor.containersOf(1), [id])
  await h.stopNeighbour()
})

t.test('a call that leaves a thread behind gets its container recycled', async (t) => {
  const h = await harness(t)
  t.equal((await h.call('leave_thread')).result, '"left"')
  const [first] = h.executor.containersOf(1)
  await eventually(() => !h.executor.containersOf(1).includes(first ?? ''), 'the container leaving')
  const next = await h.call('add', ['2', '3'])
  t.same([next.result, next.coldStart], ['5', true], 'the next call runs in a new container')
  await h.stopNeighbour()
})

t.test('output with no request pending discards the container; it is never taken as an answer', async (t) => {
  const h = await harness(t)
  t.equal((await h.call('talk_outside_calls')).result, '"talking"')
  const [first] = h.executor.containersOf(1)
  await eventually(() => !h.executor.containersOf(1).includes(first ?? ''), 'the container being discarded')
  for (let i = 0; i < 3; i++) {
    const next = await h.call('add', [String(i), '1'])
    t.equal(next.result, String(i + 1), "the answer is the call's own, not a forged line")
    if (i === 0) t.equal(next.coldStart, true, 'in a new container')
  }
  await h.stopNeighbour()
})
