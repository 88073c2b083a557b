// Crashes that end in their worker (worker/): calls that take V8 down with a
// fatal out-of-memory (which isolated-vm's heap limit does not catch), at call
// time and at deploy time, and a worker killed from outside under load. Each
// asserts the host (this process) is unchanged, the worker was replaced and
// serves again, and a neighbour function in another worker answered
// throughout with no failure.
import { createServer } from 'node:http'
import t from 'tap'
import { failure, until, workerHarness } from './worker-harness.ts'

/** The issue's dictionary bomb: Object.keys of a 10-million-key dictionary reaches V8's fatal OOM path. */
const DICTIONARY = `export function buildIndex(n) {
  const index = {}
  for (let i = 0; i < n; i++) index['key' + i] = 'value-' + i
  return Object.keys(index).length
}
export function ok() { return 'ok' }`

const LONG = { cpuMs: 150_000, timeoutMs: 150_000 }

// Near a 128 MiB limit V8 may grind through full GCs for a minute or two on a loaded machine.
t.setTimeout(240_000)

for (const memoryMb of [16, 32, 128]) {
  t.test(
    `the dictionary bomb at ${memoryMb} MiB: RESOURCE_EXHAUSTED, its worker replaced, the host and a neighbour untouched`,
    async (t) => {
      const h = await workerHarness(t)
      const hostPid = process.pid
      const neighbour = await h.neighbour()
      const bomb = await h.deploy(DICTIONARY, `dictionary-${memoryMb}`)
      await bomb.call('ok')
      const worker = h.executor.workerOf(bomb.module)
      t.ok(worker, 'the bomb has a worker')
      t.not(worker, h.executor.workerOf('neighbour'), 'the neighbour is in another worker')
      if (!worker) return
      const { pid, generation } = worker
      const error = await failure(
        bomb.call('buildIndex', { args: [10_000_000], limits: { memoryMb, ...LONG }, timeoutMs: LONG.timeoutMs }),
      )
      t.equal(error.code, 'RESOURCE_EXHAUSTED')
      // Where V8's fatal path comes first (16 and 32 MiB here; 128 at times) the worker dies; else
      // isolated-vm's heap limit stops the call inside its isolate and the worker stays, or is
      // replaced when the builtin kept its thread past the answer.
      if (memoryMb < 128 || /could not contain/.test(error.message)) {
        t.equal(error.breach, 'memory')
        t.equal(
          error.message,
          `function "buildIndex" ran out of memory past its ${memoryMb} MiB limit in a way V8 could not contain (its worker process died and was replaced)`,
        )
        t.ok(await until(() => worker.generation === generation + 1 && worker.state === 'ready', 60_000), 'replaced')
        t.not(worker.pid, pid, 'a new worker process')
      } else {
        t.equal(error.message, `function "buildIndex" ran past its ${memoryMb} MiB memory limit and was stopped`)
        t.ok(await until(() => worker.state === 'ready', 60_000), 'the worker is (again) ready')
      }
      t.equal((await bomb.call('ok')).result, '"ok"', 'the worker serves')
      t.ok(await until(() => worker.poolReady === worker.poolTarget, 30_000), 'its warm pool refilled')
      const { ok, failures } = await neighbour.stop()
      t.same(failures, [], 'the neighbour never failed')
      t.ok(ok > 0, `the neighbour answered ${ok} calls meanwhile`)
      t.equal(process.pid, hostPid, 'the host is the same process')
    },
  )
}

t.test('another builtin on the fatal path (Object.entries of a big dictionary): contained the same way', async (t) => {
  const h = await workerHarness(t)
  const neighbour = await h.neighbour()
  const bomb = await h.deploy(
    `export function entries(n) { const o = {}; for (let i = 0; i < n; i++) o['k' + i] = i; return Object.entries(o).length }`,
    'entries',
  )
  const error = await failure(
    bomb.call('entries', { args: [3_000_000], limits: { memoryMb: 16, ...LONG }, timeoutMs: LONG.timeoutMs }),
  )
  t.equal(error.code, 'RESOURCE_EXHAUSTED')
  t.equal(error.breach, 'memory')
  t.match(error.message, /^function "entries" ran out of memory past its 16 MiB limit/)
  const { failures } = await neighbour.stop()
  t.same(failures, [])
})

t.test(
  'a deploy whose top-level code takes V8 down: RESOURCE_EXHAUSTED for that deploy, the next deploy works',
  async (t) => {
    const h = await workerHarness(t, { memoryLimitMb: 16, loadTimeoutMs: 60_000 })
    const neighbour = await h.neighbour()
    const error = await failure(
      h.deploy(
        `const index = {}\nfor (let i = 0; i < 10000000; i++) index['key' + i] = i\nconst size = Object.keys(index).length\nexport function f() { return size }`,
        'top-level-bomb',
      ),
    )
    t.equal(error.code, 'RESOURCE_EXHAUSTED')
    t.equal(error.breach, 'memory')
    t.equal(
      error.message,
      'top-level-bomb.js: its top-level code ran out of memory in a way V8 could not contain (the checking worker died)',
    )
    const next = await h.deploy('export function g() { return 7 }', 'after-bomb')
    t.equal((await next.call('g')).result, '7')
    const { failures } = await neighbour.stop()
    t.same(failures, [])
  },
)

t.test(
  'a module whose calls kill their worker twice is quarantined: refused, never started, with a retry hint',
  async (t) => {
    const h = await workerHarness(t)
    const bomb = await h.deploy(DICTIONARY, 'repeat-offender')
    for (let i = 0; i < 2; i++) {
      const error = await failure(
        bomb.call('buildIndex', { args: [10_000_000], limits: { memoryMb: 16, ...LONG }, timeoutMs: LONG.timeoutMs }),
      )
      t.equal(error.code, 'RESOURCE_EXHAUSTED')
    }
    const refused = await failure(bomb.call('ok'))
    t.equal(refused.code, 'RESOURCE_EXHAUSTED')
    t.equal(refused.started, 'never')
    t.match(
      refused.message,
      /^function "ok" is quarantined on this host for another \d+ s: calls of module "repeat-offender" crashed its worker process 2 times within 60 s$/,
    )
    t.ok((refused.retryAfterMs ?? 0) > 0)
    const other = await h.deploy('export function fine() { return 1 }', 'bystander')
    t.equal((await other.call('fine')).result, '1', 'other modules still run')
  },
)

t.test(
  'kill -9 of one worker under load: only its calls fail (UNAVAILABLE), none ran twice, it comes back',
  async (t) => {
    // Every victim call reports to this server with its id before it waits: what ran is counted here.
    const hits = new Map<string, number>()
    const server = createServer((req, res) => {
      const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? ''
      hits.set(id, (hits.get(id) ?? 0) + 1)
      res.end('ok')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => server.close())
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const h = await workerHarness(t)
    const hostPid = process.pid
    const neighbour = await h.neighbour()
    const victim = await h.deploy(
      `export async function work(url) { await fetch(url); await new Promise((r) => setTimeout(r, 20)); return 'done' }`,
      'victim',
    )
    const call = (i: number) =>
      victim.call('work', {
        args: [`http://127.0.0.1:${port}/?id=v${i}`],
        egressAllow: ['127.0.0.1'],
        callId: `v${i}`,
      })
    t.equal((await call(0)).result, '"done"', 'fetch goes out through the host')
    const worker = h.executor.workerOf('victim')
    t.not(worker, h.executor.workerOf('neighbour'))
    if (!worker?.pid) return
    const { pid, generation } = worker
    // Eight calls at a time in a loop; the worker is killed while they run.
    const outcomes = new Map<string, string>()
    let n = 0
    let running = true
    const lanes = Array.from({ length: 8 }, async () => {
      while (running) {
        const i = ++n
        await call(i).then(
          () => outcomes.set(`v${i}`, 'ok'),
          (error: { code?: string; started?: string }) => outcomes.set(`v${i}`, `${error.code}/${error.started}`),
        )
      }
    })
    t.ok(await until(() => worker.inFlight >= 4), 'calls in flight on the victim worker')
    process.kill(pid, 'SIGKILL')
    t.ok(await until(() => worker.generation === generation + 1 && worker.state === 'ready', 60_000), 'replaced')
    t.ok(await until(() => [...outcomes.values()].filter((o) => o === 'ok').length > 20, 30_000))
    running = false
    await Promise.all(lanes)
    const failed = [...outcomes].filter(([, o]) => o !== 'ok')
    t.ok(failed.length > 0, `${failed.length} victim calls were in flight when it died`)
    for (const [id, outcome] of failed) {
      t.ok(outcome === 'UNAVAILABLE/maybe' || outcome === 'UNAVAILABLE/never', `${id}: ${outcome}`)
      if (outcome.endsWith('/never')) t.equal(hits.get(id) ?? 0, 0, `${id} said never started and never ran`)
    }
    t.same(
      [...hits].filter(([, count]) => count > 1),
      [],
      'no call ran twice',
    )
    const { ok, failures } = await neighbour.stop()
    t.same(failures, [], 'the neighbour in the other worker never failed')
    t.ok(ok > 0)
    t.equal(process.pid, hostPid)
  },
)
