// A controller that dies or is stopped under load, with its hosts running on:
// kill -9 with calls in flight and a restart after 0 s and after 2.5 s, and
// SIGTERM under load with a restart at once. Every call reports to a
// side-effect counter with its own id: no call may run twice, a call cut off
// says it may have run, and callers with a deadline ride over a restart.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, OsirisError } from '@osiris/sdk'
import t from 'tap'
import { eventually, Platform, spawnOsiris, stopOnTeardown } from './helpers/platform.ts'
import { SideEffects } from './helpers/side-effects.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-restart-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const dataDir = join(dir, 'data')
const effects = await SideEffects.start(t)

/** Starts `osiris controller` on `port` (0: a free one); resolves once it listens. */
async function startController(port: number): Promise<Platform> {
  const proc = spawnOsiris(['controller', '--port', String(port), '--http-port', '0', '--data-dir', dataDir])
  stopOnTeardown(t, proc)
  const controller = new Platform(proc)
  const m = await controller.waitFor(/^controller listening on (\S+) \(gRPC\)/, 0, 60_000)
  controller.grpc = m[1] ?? ''
  return controller
}

let controller = await startController(0)
const address = controller.grpc
const port = Number(address.split(':').at(-1))
for (let i = 0; i < 2; i++) {
  const host = spawnOsiris(['host', '--controller', address, '--no-containers', '--pool', '2'])
  stopOnTeardown(t, host)
}
const osiris = connect(address)
t.teardown(() => osiris.close())
await eventually(async () => (await osiris.hosts()).length === 2, 60_000, 'two hosts registered')
await osiris.deploy(effects.source(), { module: 'effect', runtime: 'js', egressAllow: ['127.0.0.1'] })

interface Outcome {
  id: string
  result: string
  started: string | undefined
  message: string
}

async function callOnce(id: string, ms: number, timeoutMs: number): Promise<Outcome> {
  try {
    await osiris.call('effect', [id, ms], { timeoutMs, callId: id })
    return { id, result: 'ok', started: undefined, message: '' }
  } catch (error) {
    const e = error instanceof OsirisError ? error : new OsirisError('INTERNAL', String(error))
    return { id, result: e.code, started: e.started, message: e.message }
  }
}

for (const downMs of [0, 2500]) {
  t.test(
    `kill -9 of the controller with calls in flight, restarted after ${downMs} ms: no call runs twice`,
    async (t) => {
      const inFlight = Array.from({ length: 6 }, () => randomUUID())
      const pending = inFlight.map((id) => callOnce(id, 1500, 15_000))
      await eventually(async () => inFlight.every((id) => effects.starts.has(id)), 20_000, 'all six running')
      controller.proc.kill('SIGKILL')
      await new Promise((resolve) => controller.proc.once('exit', resolve))
      // Sent while no controller listens: they wait for one, within their deadline (long: a
      // restart on a busy machine can take many seconds, and once-ness is the point here).
      const during = Array.from({ length: 6 }, () => randomUUID())
      const waiting = during.map((id) => callOnce(id, 0, 60_000))
      await new Promise((resolve) => setTimeout(resolve, downMs))
      controller = await startController(port)
      const listeningAt = performance.now()
      await eventually(async () => (await osiris.hosts()).length === 2, 10_000, 'hosts re-registered')
      const backMs = performance.now() - listeningAt
      const cut = await Promise.all(pending)
      const later = await Promise.all(waiting)
      t.comment(
        `in flight at the kill: ${cut.map((o) => `${o.result}${o.started ? `/${o.started}` : ''}`).join(', ')}; ` +
          `${cut.filter((o) => effects.ends.has(o.id)).length} of them reached their end; ` +
          `both hosts registered and the SDK answered ${backMs.toFixed(0)} ms after the controller listened`,
      )
      for (const o of cut) {
        t.ok(o.result === 'ok' || o.started === 'maybe', `cut off: ${o.result} says it may have run (${o.message})`)
      }
      t.same(
        later.filter((o) => o.result !== 'ok'),
        [],
        'calls sent while the controller was down ran once it was back',
      )
      const ids = [...inFlight, ...during]
      t.same(
        ids.filter((id) => (effects.starts.get(id) ?? 0) > 1),
        [],
        'no call ran twice',
      )
      t.ok(
        during.every((id) => effects.starts.get(id) === 1),
        'each call sent during the outage ran exactly once',
      )
    },
  )
}

t.test(
  'SIGTERM of the controller under load: exits within grace + 1 s; restarted at once, no call fails',
  async (t) => {
    const outcomes: Outcome[] = []
    let running = true
    const workers = Array.from({ length: 16 }, async () => {
      while (running) outcomes.push(await callOnce(randomUUID(), 20, 5000))
    })
    await eventually(async () => outcomes.length >= 100, 20_000, 'load running')
    const stoppedAt = performance.now()
    const exited = controller.stop('SIGTERM')
    const code = await exited
    const exitMs = performance.now() - stoppedAt
    controller = await startController(port)
    // How long the new process took to listen: on a loaded machine Node's own start-up eats into
    // the callers' 5 s deadline.
    const restartMs = performance.now() - stoppedAt - exitMs
    const restartedAt = outcomes.length
    await eventually(async () => outcomes.length >= restartedAt + 200, 30_000, 'load after the restart')
    running = false
    await Promise.all(workers)
    const failed = outcomes.filter((o) => o.result !== 'ok')
    t.comment(
      `SIGTERM: exit ${code} after ${exitMs.toFixed(0)} ms (grace 5000 ms); listening again ${restartMs.toFixed(0)} ms later; ${outcomes.length} calls, ${failed.length} failed`,
    )
    t.equal(code, 0)
    t.ok(exitMs <= 6000, `exited within grace + 1 s (${exitMs.toFixed(0)} ms)`)
    t.same(failed, [], 'no call failed')
    t.same(effects.duplicates(), [], 'no call ran twice')
  },
)
