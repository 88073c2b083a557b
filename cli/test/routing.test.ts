// Routing over real processes: a controller and three supervised hosts on
// loopback. Warm affinity, least-loaded spreading, scale-out with queueing,
// queue bounds and deadlines, idle TTL, and host failure: kill -9, SIGSTOP,
// and drain, each under load.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, OsirisError } from '@osiris/sdk'
import t from 'tap'
import { alive, eventually, runCli, spawnOsiris, startPlatform, stopOnTeardown } from './helpers/platform.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-routing-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const platform = await startPlatform(t, join(dir, 'data'), [
  ...['--hosts', '3', '--max-fn-instances', '2', '--queue-size', '4'],
  ...['--heartbeat-timeout', '1500', '--idle-ttl', '2000'],
])
const osiris = connect(platform.grpc)
t.teardown(() => osiris.close())

// Holds its instance for `ms` without burning CPU (the clock inside an isolate
// only moves between host events, so a spin on Date.now() would never end).
const BUSY = 'export async function busy(ms) { await new Promise((resolve) => setTimeout(resolve, ms)); return ms }'

function count<T>(items: T[]): Map<T, number> {
  const counts = new Map<T, number>()
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1)
  return counts
}

async function outcome(promise: Promise<unknown>): Promise<'ok' | string> {
  try {
    await promise
    return 'ok'
  } catch (error) {
    return error instanceof OsirisError ? error.code : String(error)
  }
}

t.test('three hosts register and are listed', async (t) => {
  await eventually(async () => (await osiris.hosts()).length === 3, 10_000, 'three hosts')
  const hosts = await osiris.hosts()
  for (const h of hosts) {
    t.equal(h.state, 'ready')
    t.ok(h.runtimes.includes('js') && h.runtimes.includes('ts'), `runtimes ${h.runtimes.join(',')}`)
    t.ok(h.pid > 0)
  }
})

t.test('osiris hosts prints each host with its state and load', async (t) => {
  const res = await runCli(['hosts', '--addr', platform.grpc])
  t.equal(res.code, 0, res.stderr)
  const lines = res.stdout.trimEnd().split('\n')
  t.match(lines[0], /^HOST\s+STATE\s+ADDRESS\s+RUNTIMES\s+POOL\s+INSTANCES\s+IN-FLIGHT\s+CAPACITY\s+RSS\s+PID$/)
  t.equal(lines.length, 4)
  for (const line of lines.slice(1))
    t.match(line, /^host-\S+\s+ready\s+127\.0\.0\.1:\d+\s+js,ts\S*\s+\d+\/\d+\s+\d+\/\d+\s+\d+\s+1000\s+\d+ MiB\s+\d+$/)
})

t.test('a host joins from another address with osiris host --advertise', async (t) => {
  const extra = spawnOsiris([
    'host',
    ...['--controller', platform.grpc, '--advertise', '127.0.0.2:0', '--id', 'joiner'],
  ])
  stopOnTeardown(t, extra)
  await eventually(async () => (await osiris.hosts()).some((h) => h.hostId === 'joiner'), 10_000, 'joiner registered')
  const joiner = (await osiris.hosts()).find((h) => h.hostId === 'joiner')
  t.match(joiner?.address, /^127\.0\.0\.2:\d+$/)
  t.match(joiner?.address, /:(?!0$)\d+$/, 'the advertised port is the bound one')
  extra.kill('SIGTERM')
  await eventually(
    async () => !(await osiris.hosts()).some((h) => h.hostId === 'joiner'),
    10_000,
    'joiner drained and left',
  )
})

t.test('warm affinity: sequential calls of one function use one warm instance', async (t) => {
  await osiris.deploy('export function affine(n) { return n * 2 }', { module: 'affine', runtime: 'js' })
  const results = []
  for (let i = 0; i < 30; i++) results.push(await osiris.call('affine', [i]))
  t.equal(results.filter((r) => r.coldStart).length, 1, 'exactly one cold start')
  t.equal(new Set(results.map((r) => r.hostId)).size, 1, 'one host served them all')
})

t.test('least-loaded: concurrent calls of many functions spread across hosts', async (t) => {
  const names = Array.from({ length: 12 }, (_, i) => `spread${i}`)
  for (const name of names) {
    await osiris.deploy(BUSY.replace('busy', name), { module: name, runtime: 'js' })
  }
  const results = await Promise.all(names.map((name) => osiris.call(name, [150])))
  const perHost = count(results.map((r) => r.hostId))
  t.equal(perHost.size, 3, 'every host took work')
  const fair = names.length / 3
  for (const [host, n] of perHost)
    t.ok(n <= 1.5 * fair, `host ${host} took ${n} of ${names.length} (fair share ${fair})`)
})

t.test("scale-out: concurrency past one host's cap grows instances on more hosts; extra calls queue", async (t) => {
  await osiris.deploy(BUSY.replace('busy', 'hot'), { module: 'hot', runtime: 'js' })
  // 3 hosts x 2 instances = 6 running at once; the other 2 wait in the queue.
  const results = await Promise.all(Array.from({ length: 8 }, () => osiris.call('hot', [300])))
  t.equal(results.length, 8, 'every call succeeded')
  const perHost = count(results.map((r) => r.hostId))
  t.ok(perHost.size >= 2, `served by ${perHost.size} hosts`)
  t.ok(results.filter((r) => r.coldStart).length <= 6, 'at most 2 instances per host were made')
})

t.test(
  'queue full answers RESOURCE_EXHAUSTED at once; a deadline reached while queued is DEADLINE_EXCEEDED',
  async (t) => {
    await osiris.deploy(BUSY.replace('busy', 'jam'), { module: 'jam', runtime: 'js' })
    const running = Array.from({ length: 6 }, () => osiris.call('jam', [1500]))
    // Wait until the six are placed, so the next calls queue.
    await eventually(async () => (await osiris.hosts()).reduce((n, h) => n + h.inFlight, 0) >= 6, 5000, 'six running')
    const late = osiris.call('jam', [10], { timeoutMs: 1000 }).catch((e: unknown) => e)
    // Over HTTP no caller-side timer races the controller's answer.
    const lateHttp = fetch(`http://${platform.http}/v1/call/jam`, {
      method: 'POST',
      headers: { 'x-osiris-timeout-ms': '1000' },
      body: '[10]',
    })
    const queued = Array.from({ length: 2 }, () => osiris.call('jam', [10]))
    const queueDepth = async (): Promise<number> => {
      const metrics = await (await fetch(`http://${platform.http}/metrics`)).text()
      return Number(/^osiris_queue_depth (\d+)$/m.exec(metrics)?.[1])
    }
    await eventually(async () => (await queueDepth()) === 4, 5000, 'four calls queued')
    const started = Date.now()
    const full = await osiris.callFunction('jam', 10).catch((e: unknown) => e)
    t.ok(Date.now() - started < 500, 'refused promptly')
    t.ok(full instanceof OsirisError)
    t.match(full, {
      code: 'RESOURCE_EXHAUSTED',
      message: /^function "jam" has 4 calls waiting for an instance, the most allowed; retry in 100 ms$/,
      retryAfterMs: 100,
    })
    const expired = await late
    // The controller answers a little before the deadline with why; on a loaded
    // machine the caller's own timer may still fire first.
    t.match(expired, {
      code: 'DEADLINE_EXCEEDED',
      message: /^(call of "jam" waited \d+ ms for a free instance|controller [\d.:]+: Deadline exceeded)/,
    })
    const expiredHttp = await lateHttp
    t.equal(expiredHttp.status, 504)
    t.match(await expiredHttp.json(), {
      error: {
        code: 'DEADLINE_EXCEEDED',
        message: /^call of "jam" waited \d+ ms for a free instance and reached its deadline$/,
      },
    })
    const all = await Promise.all([...running, ...queued].map(outcome))
    t.same(count(all), new Map([['ok', 8]]), 'running and queued calls all succeed')
  },
)

t.test('idle TTL: instances go away, and the next call is a cold start from the pool', async (t) => {
  await osiris.deploy('export function ttl() { return "t" }', { module: 'ttl', runtime: 'js' })
  const first = await osiris.call('ttl', [])
  t.equal(first.coldStart, true)
  t.equal((await osiris.call('ttl', [])).coldStart, false)
  await eventually(
    async () => (await osiris.hosts()).every((h) => h.instances === 0),
    10_000,
    'every instance disposed after the 2 s TTL',
  )
  const after = await osiris.call('ttl', [])
  t.equal(after.coldStart, true)
})

/** Calls `fn` with `concurrency` workers until `stop()`; records each outcome with its start time. */
function load(fn: string, concurrency: number) {
  const outcomes: Array<{ startedAt: number; result: string; message: string }> = []
  let running = true
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      const startedAt = Date.now()
      try {
        await osiris.call(fn, [20], { timeoutMs: 10_000 })
        outcomes.push({ startedAt, result: 'ok', message: '' })
      } catch (error) {
        const e = error instanceof OsirisError ? error : new OsirisError('INTERNAL', String(error))
        outcomes.push({ startedAt, result: e.code, message: e.message })
      }
    }
  })
  return {
    outcomes,
    async stop() {
      running = false
      await Promise.all(workers)
    },
  }
}

t.test('kill -9 a host under load: every call is answered; calls after the kill succeed', async (t) => {
  await osiris.deploy(BUSY.replace('busy', 'steady'), { module: 'steady', runtime: 'js' })
  const traffic = load('steady', 6)
  await eventually(async () => traffic.outcomes.length >= 30, 10_000, 'load running')
  const { hostId: victimId, pid: victimPid } = (await osiris.hosts())[0] ?? { hostId: '', pid: 0 }
  process.kill(Number(victimPid), 'SIGKILL')
  // "After the kill" starts once the process is really gone; calls that reached it before can fail.
  await eventually(async () => !alive(Number(victimPid)), 5000, 'victim gone')
  const killedAt = Date.now()
  await eventually(
    async () => traffic.outcomes.filter((o) => o.startedAt > killedAt).length >= 60,
    20_000,
    'load after kill',
  )
  await traffic.stop()
  const before = traffic.outcomes.filter((o) => o.startedAt <= killedAt)
  const after = traffic.outcomes.filter((o) => o.startedAt > killedAt)
  const failed = traffic.outcomes.filter((o) => o.result !== 'ok')
  t.comment(`kill -9 of ${victimId}: ${before.length} calls before, ${after.length} after; failed: ${failed.length}`)
  for (const f of failed) {
    t.equal(f.result, 'UNAVAILABLE', 'the only failure is UNAVAILABLE')
    t.match(f.message, /^host "[^"]+" was lost while the call of "steady" was in flight: /)
    t.ok(f.startedAt <= killedAt, 'only calls already in flight fail')
  }
  t.equal(after.filter((o) => o.result !== 'ok').length, 0, 'every call started after the kill succeeds')
  await eventually(
    async () => (await osiris.hosts()).length === 3,
    15_000,
    `the supervisor restarts the host; output:\n${platform.lines.slice(-20).join('\n')}`,
  )
})

t.test(
  'SIGSTOP a host: it is removed within the heartbeat window, traffic flows; SIGCONT brings it back',
  async (t) => {
    const { hostId: stoppedId, pid } = (await osiris.hosts()).at(-1) ?? { hostId: '', pid: 0 }
    t.teardown(() => {
      try {
        process.kill(Number(pid), 'SIGCONT')
      } catch {}
    })
    process.kill(Number(pid), 'SIGSTOP')
    const stoppedAt = Date.now()
    await eventually(
      async () => !(await osiris.hosts()).some((h) => h.hostId === stoppedId),
      5000,
      'stopped host removed',
    )
    t.comment(`removed ${Date.now() - stoppedAt} ms after SIGSTOP (heartbeat timeout 1500 ms)`)
    // Two hosts x 2 instances run 4 at once and 4 more may queue: 8 fit.
    const results = await Promise.all(Array.from({ length: 8 }, () => osiris.call('steady', [5])))
    t.notOk(
      results.some((r) => r.hostId === stoppedId),
      'no call went to the stopped host',
    )
    process.kill(Number(pid), 'SIGCONT')
    await eventually(async () => (await osiris.hosts()).some((h) => h.hostId === stoppedId), 10_000, 'it re-registers')
    t.pass('the host came back by itself')
  },
)

t.test('drain under load: SIGTERM a host and no call fails', async (t) => {
  const traffic = load('steady', 6)
  await eventually(async () => traffic.outcomes.length >= 30, 10_000, 'load running')
  const { hostId: drainedId, pid } = (await osiris.hosts())[1] ?? { hostId: '', pid: 0 }
  const from = platform.lines.length
  process.kill(Number(pid), 'SIGTERM')
  await platform.waitFor(new RegExp(`^host ${drainedId} disconnected`), from, 15_000)
  const drainedAt = traffic.outcomes.length
  await eventually(async () => traffic.outcomes.length >= drainedAt + 30, 10_000, 'load after the drain')
  await traffic.stop()
  const failed = traffic.outcomes.filter((o) => o.result !== 'ok')
  t.same(failed, [], `no failed call out of ${traffic.outcomes.length}`)
})
