// Per-function limits set at deploy (`osiris deploy --timeout --cpu --memory
// --allow-host`) are checked against the platform's bounds, stored with the
// version, and enforced on every call.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@osiris/sdk'
import t from 'tap'
import { runCli, startPlatform } from './helpers/platform.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-deploy-limits-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const platform = await startPlatform(t, join(dir, 'data'))
const osiris = connect(platform.grpc)
t.teardown(() => osiris.close())
const env = { OSIRIS_ADDR: platform.grpc }
const file = join(dir, 'slow.js')
writeFileSync(
  file,
  'export async function slow() { await new Promise(() => {}) }\nexport function quick() { return 1 }\n',
)

t.test('limits from the CLI are stored and enforced', async (t) => {
  const deployed = await runCli(
    ['deploy', file, '--timeout', '300ms', '--cpu', '1s', '--memory', '64', '--allow-host', 'api.example.com'],
    env,
  )
  t.equal(deployed.code, 0, deployed.stderr)
  const info = await osiris.get('slow')
  t.same(info.limits, { timeoutMs: 300, cpuMs: 1000, memoryMb: 64 })
  t.same(info.egressAllow, ['api.example.com'])
  const started = Date.now()
  const late = await osiris.callFunction('slow').catch((e: unknown) => e)
  t.match(late, { code: 'DEADLINE_EXCEEDED' })
  t.ok(Date.now() - started < 5000, 'stopped at its own 300 ms limit, not the platform default of 30 s')
  t.equal(await osiris.callFunction('quick'), 1)
})

t.test('limits out of bounds are refused at deploy', async (t) => {
  const memory = await runCli(['deploy', file, '--name', 'tiny', '--memory', '4'], env)
  t.equal(memory.code, 1)
  t.equal(memory.stderr, 'error INVALID_ARGUMENT: limit memoryMb must be an integer from 8 to 1024, got 4\n')
  const timeout = await runCli(['deploy', file, '--name', 'forever', '--timeout', '1h'], env)
  t.equal(timeout.code, 2)
  t.match(timeout.stderr, /^error USAGE: --timeout must be a duration like 2s or 500ms, got "1h"/)
  const long = await runCli(['deploy', file, '--name', 'forever', '--timeout', '3600s'], env)
  t.equal(long.stderr, 'error INVALID_ARGUMENT: limit timeoutMs must be an integer from 1 to 300000, got 3600000\n')
  await t.rejects(osiris.get('tiny'), { code: 'NOT_FOUND' }, 'nothing registered')
})
