// `osiris start` with API tokens: its banner says auth is on, its own hosts
// register with the token it gives them, and client verbs need OSIRIS_TOKEN.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli, startPlatform } from './helpers/platform.ts'

const ADMIN = 'cli-admin-token-0123456789'
const INVOKE = 'cli-invoke-token-0123456789'

t.test('auth off by default, and the banner says so', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'osiris-auth-off-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const platform = await startPlatform(t, join(dir, 'data'))
  t.ok(platform.lines.includes('auth: off (no API tokens configured), so the controller listens on loopback only'))
})

t.test('with tokens: hosts register, client verbs need the right token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'osiris-auth-on-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const tokensFile = join(dir, 'tokens')
  writeFileSync(tokensFile, `# test tokens\nadmin ${ADMIN}\n`)
  const platform = await startPlatform(t, join(dir, 'data'), ['--tokens-file', tokensFile], {
    OSIRIS_TOKENS: `invoke=${INVOKE}`,
  })
  t.ok(platform.lines.includes('auth: on (2 API tokens)'), 'banner')
  const file = join(dir, 'math.js')
  writeFileSync(file, 'export function addNumbers(a, b) { return a + b }\n')
  const env = { OSIRIS_ADDR: platform.grpc }

  const anonymous = await runCli(['deploy', file], { ...env, OSIRIS_TOKEN: '' })
  t.equal(anonymous.code, 1)
  t.equal(anonymous.stderr, 'error UNAUTHENTICATED: missing credentials: send "authorization: Bearer TOKEN"\n')
  const invoker = await runCli(['deploy', file], { ...env, OSIRIS_TOKEN: INVOKE })
  t.equal(invoker.stderr, 'error PERMISSION_DENIED: a token with role "invoke" may not deploy\n')
  const admin = await runCli(['deploy', file], { ...env, OSIRIS_TOKEN: ADMIN })
  t.equal(admin.code, 0, admin.stderr)
  const call = await runCli(['call', 'addNumbers', '3', '5'], { ...env, OSIRIS_TOKEN: INVOKE })
  t.equal(call.stdout, '8\n', call.stderr)
})
