// Lifecycle of the embedded platform: Ctrl-C shuts down cleanly, deployed
// functions survive a controller restart, and a killed host child is
// restarted by the supervisor so calls work again.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, OsirisError } from '@osiris/sdk'
import t from 'tap'
import { alive, eventually, startPlatform } from './helpers/platform.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-life-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('deployed functions survive a controller restart; Ctrl-C exits cleanly', async (t) => {
  const dataDir = join(dir, 'restart')
  const first = await startPlatform(t, dataDir)
  const before = connect(first.grpc)
  const deployed = await before.deploy('export function keep(x) { return [x, "kept"] }', {
    module: 'keep',
    runtime: 'js',
  })
  t.same(await before.callFunction('keep', 1), [1, 'kept'])
  before.close()
  const hostPid = first.hostPid()
  t.equal(await first.stop('SIGINT'), 0, 'Ctrl-C exits with 0')
  await eventually(async () => !alive(hostPid), 10_000, 'host child exits with the platform')

  const second = await startPlatform(t, dataDir)
  const after = connect(second.grpc)
  t.teardown(() => after.close())
  const listed = await after.list()
  t.same(
    listed.map((f) => [f.name, f.version, f.codeHash]),
    [['keep', deployed.version, deployed.functions[0]?.codeHash]],
  )
  const result = await after.call('keep', [2])
  t.same(result.value, [2, 'kept'])
  t.equal(result.version, deployed.version)
  t.equal(result.coldStart, true, 'the new host fetched the code from the controller by hash')
})

t.test('a killed host child is restarted by the supervisor and calls work again', async (t) => {
  const platform = await startPlatform(t, join(dir, 'supervise'))
  const osiris = connect(platform.grpc)
  t.teardown(() => osiris.close())
  await osiris.deploy('export function ping() { return "pong" }', { module: 'ping', runtime: 'js' })
  t.equal(await osiris.callFunction('ping'), 'pong')
  const from = platform.lines.length
  const pid = platform.hostPid()
  process.kill(pid, 'SIGKILL')
  await platform.waitFor(/^host \S+ disconnected/, from)
  // The supervisor waits at least 200 ms before restarting: a call now finds no host.
  const during = await osiris.callFunction('ping').catch((error: unknown) => error)
  t.ok(during instanceof OsirisError)
  t.match(during, { code: 'UNAVAILABLE', message: /no host can run runtime "js": no hosts are connected/ })
  await platform.waitFor(/^host (\S+) connected from .* \(pid (\d+)\)/, from)
  t.not(platform.hostPid(), pid, 'a new host process')
  t.match(platform.lines.slice(from).join('\n'), /host 1 \(pid \d+\) exited with SIGKILL; restarting in \d+ ms/)
  await eventually(async () => (await osiris.callFunction('ping')) === 'pong', 10_000, 'calls work again')
  t.pass('calls work again after the restart')
})

t.test('the SDK retries requests that never reached a restarting controller, within its deadline', async (t) => {
  const dataDir = join(dir, 'sdk-retry')
  const first = await startPlatform(t, dataDir)
  const port = first.grpc.split(':').at(-1) ?? ''
  t.equal(await first.stop('SIGINT'), 0)
  const osiris = connect(first.grpc)
  t.teardown(() => osiris.close())
  // Sent while nothing listens: the SDK retries until the controller is back.
  const pending = osiris.hosts({ timeoutMs: 20_000 })
  await startPlatform(t, dataDir, ['--port', port])
  const hosts = await pending
  t.ok(Array.isArray(hosts), 'answered by the restarted controller')
  const gone = connect('127.0.0.1:1')
  t.teardown(() => gone.close())
  const refused = await gone.hosts({ timeoutMs: 300 }).catch((error: unknown) => error)
  t.match(refused, { code: 'UNAVAILABLE', message: /^controller 127\.0\.0\.1:1: / }, 'and gives up at the deadline')
})

t.test('Ctrl-C reaching the platform twice at once (npm start relays it) still shuts down cleanly', async (t) => {
  const platform = await startPlatform(t, join(dir, 'relayed'))
  // The terminal signals the whole process group; npm then passes its own on.
  const exited = platform.stop('SIGINT')
  platform.proc.kill('SIGTERM')
  t.equal(await exited, 0, 'a clean exit, not a forced one')
  t.notOk(
    platform.lines.some((line) => line.includes('again: exiting now')),
    'the relayed signal is not taken for a second Ctrl-C',
  )
})

t.test('a second Ctrl-C while calls are being finished exits at once', async (t) => {
  const platform = await startPlatform(t, join(dir, 'forced'))
  const osiris = connect(platform.grpc)
  t.teardown(() => osiris.close())
  await osiris.deploy('export async function linger() { await new Promise((r) => setTimeout(r, 5000)); return 1 }', {
    module: 'linger',
    runtime: 'js',
  })
  const lingering = osiris.callFunction('linger').catch((error: unknown) => error)
  await eventually(async () => (await osiris.hosts()).some((h) => h.inFlight === 1), 5000, 'the call running')
  const exited = platform.stop('SIGINT')
  // Longer than the 1 s within which a second signal is taken for the first one relayed.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(platform.proc.exitCode, null, 'still finishing the call in flight')
  platform.proc.kill('SIGINT')
  t.equal(await exited, 1)
  t.ok(platform.lines.includes('stderr: SIGINT again: exiting now'))
  t.ok((await lingering) instanceof OsirisError, 'the call in flight failed rather than hung')
})
