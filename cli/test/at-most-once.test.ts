// Calls run at most once, and a caller's abort stops the work. Real processes
// (a controller and three supervised hosts on loopback); every call reports to
// a side-effect counter with its own id, so "no call ran twice" is counted,
// not assumed.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, OsirisError } from '@osiris/sdk'
import t from 'tap'
import { alive, eventually, Platform, spawnOsiris } from './helpers/platform.ts'
import { SideEffects } from './helpers/side-effects.ts'

const MAX_FN_INSTANCES = 4
const dir = mkdtempSync(join(tmpdir(), 'osiris-once-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const effects = await SideEffects.start(t)
// Started as startPlatform does, with more time to get ready: three hosts on a busy 2-core machine.
const platform = new Platform(
  spawnOsiris([
    'start',
    ...['--port', '0', '--http-port', '0', '--data-dir', join(dir, 'data'), '--pool', '4'],
    ...['--hosts', '3', '--max-fn-instances', String(MAX_FN_INSTANCES), '--heartbeat-timeout', '1500'],
    '--no-containers',
  ]),
)
t.teardown(() => platform.stop('SIGTERM'))
const listening = await platform.waitFor(
  /^controller listening on (\S+) \(gRPC\) and http:\/\/(\S+) \(HTTP\)/,
  0,
  90_000,
)
platform.grpc = listening[1] ?? ''
platform.http = listening[2] ?? ''
await platform.waitFor(/^Osiris is ready/, 0, 90_000)
const osiris = connect(platform.grpc)
t.teardown(() => osiris.close())
await eventually(async () => (await osiris.hosts()).length === 3, 10_000, 'three hosts')
await osiris.deploy(effects.source(), { module: 'effect', runtime: 'js', egressAllow: ['127.0.0.1'] })

interface Outcome {
  id: string
  result: string
  started: string | undefined
  message: string
}

async function callOnce(id: string, ms: number, options: { timeoutMs?: number; signal?: AbortSignal } = {}) {
  try {
    await osiris.call('effect', [id, ms], { ...options, callId: id })
    return { id, result: 'ok', started: undefined, message: '' }
  } catch (error) {
    const e = error instanceof OsirisError ? error : new OsirisError('INTERNAL', String(error))
    return { id, result: e.code, started: e.started, message: e.message }
  }
}

t.test('kill -9 of a host under load, three times: no call runs twice, every call is answered', async (t) => {
  const outcomes: Outcome[] = []
  let running = true
  let sent = 0
  const workers = Array.from({ length: 32 }, async () => {
    while (running) {
      sent++
      outcomes.push(await callOnce(randomUUID(), 20, { timeoutMs: 15_000 }))
    }
  })
  // The load stops however this ends, so the tests after it start from idle hosts.
  t.teardown(async () => {
    running = false
    await Promise.all(workers)
  })
  for (let kill = 0; kill < 3; kill++) {
    const before = outcomes.length
    await eventually(async () => outcomes.length >= before + 100, 60_000, 'load running')
    const hosts = await osiris.hosts()
    const victim = hosts[kill % hosts.length]
    const pid = Number(victim?.pid)
    process.kill(pid, 'SIGKILL')
    await eventually(async () => !alive(pid), 5000, 'victim gone')
    // The supervisor restarts it (a new process: slow on a busy machine); all three before the next kill.
    await eventually(
      async () => (await osiris.hosts()).filter((h) => h.pid !== victim?.pid).length === 3,
      60_000,
      'host restarted',
    )
  }
  const before = outcomes.length
  await eventually(async () => outcomes.length >= before + 100, 60_000, 'load after the last kill')
  running = false
  await Promise.all(workers)
  const failed = outcomes.filter((o) => o.result !== 'ok')
  const duplicates = effects.duplicates()
  t.comment(
    `${outcomes.length} calls, ${failed.length} failed (${failed.filter((f) => f.started === 'maybe').length} maybe, ${failed.filter((f) => f.started === 'never').length} never), ${duplicates.length} ran twice`,
  )
  t.equal(outcomes.length, sent, 'every call was answered')
  t.same(duplicates, [], 'no call ran twice')
  for (const f of failed) {
    t.ok(f.started === 'maybe' || f.started === 'never', `${f.result} says whether it started: ${f.message}`)
    if (f.started === 'never') t.equal(effects.starts.get(f.id) ?? 0, 0, 'a never-started call never ran')
  }
  for (const o of outcomes.filter((o) => o.result === 'ok')) {
    if (effects.starts.get(o.id) !== 1) t.fail(`call ${o.id} succeeded but ran ${effects.starts.get(o.id) ?? 0} times`)
  }
})

/** Sum of busy instances the hosts report, and the most instances on any one host. */
async function load(): Promise<{ busy: number; most: number }> {
  const hosts = await osiris.hosts()
  return {
    busy: hosts.reduce((n, h) => n + h.busy, 0),
    most: Math.max(0, ...hosts.map((h) => h.instances)),
  }
}

t.test(
  'abort at 50 ms of a 5 s call (SDK signal, HTTP client gone): the host stops it, its end never happens',
  async (t) => {
    const viaSdk = randomUUID()
    const viaHttp = randomUUID()
    const sdkAbort = new AbortController()
    const httpAbort = new AbortController()
    const pending = callOnce(viaSdk, 5000, { signal: sdkAbort.signal })
    const request = fetch(`http://${platform.http}/v1/call/effect`, {
      method: 'POST',
      body: JSON.stringify([viaHttp, 5000]),
      signal: httpAbort.signal,
    }).catch((error: unknown) => error)
    await eventually(
      async () => effects.starts.get(viaSdk) === 1 && effects.starts.get(viaHttp) === 1,
      5000,
      'both calls started',
    )
    await new Promise((resolve) => setTimeout(resolve, 50))
    sdkAbort.abort()
    httpAbort.abort()
    const abortedAt = performance.now()
    // Polled back to back from the abort on (not eventually()'s 50 ms steps): the figure is the point.
    const stopping = (async () => {
      while (performance.now() - abortedAt < 2000) {
        if ((await load()).busy === 0) return performance.now() - abortedAt
      }
      return Number.POSITIVE_INFINITY
    })()
    const outcome = await pending
    t.equal(outcome.result, 'CANCELLED')
    t.equal(outcome.started, 'maybe', 'it had started: the caller is told it may have run')
    t.match(await request, { name: 'AbortError' }, 'the HTTP client went away')
    const stoppedMs = await stopping
    t.comment(`host busy count 0 ${stoppedMs.toFixed(0)} ms after the aborts`)
    t.ok(stoppedMs <= 200, `busy count 0 within 200 ms (took ${stoppedMs.toFixed(0)} ms)`)
    // Long enough for the 5 s functions to have reached their end, had they kept running.
    await new Promise((resolve) => setTimeout(resolve, 5500))
    t.equal(effects.ends.get(viaSdk) ?? 0, 0, "the SDK call's end never happened")
    t.equal(effects.ends.get(viaHttp) ?? 0, 0, "the HTTP call's end never happened")
  },
)

t.test('a loop of aborted calls never holds more than --max-fn-instances per host', async (t) => {
  let most = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      most = Math.max(most, (await load()).most)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
  const ids: string[] = []
  for (let round = 0; round < 5; round++) {
    // Aborted 50 to 400 ms in: some while queued, some cold-starting, most running.
    const round_ = Array.from({ length: 30 }, (_, i) => {
      const id = randomUUID()
      ids.push(id)
      return callOnce(id, 5000, { signal: AbortSignal.timeout(50 + (i % 8) * 50) })
    })
    const outcomes = await Promise.all(round_)
    t.same(
      outcomes.filter((o) => o.result !== 'CANCELLED'),
      [],
      `round ${round + 1}: every call cancelled`,
    )
  }
  await eventually(async () => (await load()).busy === 0, 5000, 'no instance busy after the loop')
  sampling = false
  await sampler
  const started = ids.filter((id) => effects.starts.has(id)).length
  t.comment(`${ids.length} aborted calls, ${started} reached their function; most instances on one host: ${most}`)
  t.ok(most <= MAX_FN_INSTANCES, `at most ${MAX_FN_INSTANCES} instances on a host (saw ${most})`)
  await new Promise((resolve) => setTimeout(resolve, 5500))
  t.equal(ids.filter((id) => effects.ends.has(id)).length, 0, 'no aborted call reached its end')
  // Nothing stuck: a normal call still runs.
  t.equal((await callOnce(randomUUID(), 0)).result, 'ok')
})
