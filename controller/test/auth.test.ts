// API tokens over real gRPC and HTTP: no token, bad token, wrong role and right
// role for each kind of request; hosts need a host token to register; with
// auth off the controller refuses to listen beyond loopback.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Host } from '@osiris/isolate-host'
import { connect, type OsirisError } from '@osiris/sdk'
import t from 'tap'
import { parseTokens } from '../src/auth.ts'
import { Controller } from '../src/controller.ts'

const ADMIN = 'admin-token-0123456789'
const INVOKE = 'invoke-token-0123456789'
const HOST = 'host-token-0123456789ab'
const METRICS = 'metrics-token-0123456789'

const dataDir = mkdtempSync(join(tmpdir(), 'osiris-auth-'))
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
const controller = await Controller.start({
  listen: '127.0.0.1:0',
  httpListen: '127.0.0.1:0',
  dataDir,
  tokens: [
    { role: 'admin', token: ADMIN },
    { role: 'invoke', token: INVOKE },
    { role: 'host', token: HOST },
    { role: 'metrics', token: METRICS },
  ],
})
t.teardown(() => controller.close(1000))

async function failure(promise: Promise<unknown>): Promise<OsirisError> {
  try {
    await promise
  } catch (error) {
    return error as OsirisError
  }
  throw new Error('expected a failure')
}

t.test('a host with no token, a bad one, or another role cannot register', async (t) => {
  for (const token of [undefined, 'not-the-host-token-at-all']) {
    const host = await Host.start({ controller: controller.address, poolTarget: 1, ...(token ? { token } : {}) })
    const reason = await host.refused
    t.equal(
      reason,
      token ? 'the token is not valid' : 'missing credentials: send "authorization: Bearer TOKEN"',
      `token ${token ?? '(none)'} is refused`,
    )
    t.notOk(
      controller.hosts.list().some((h) => h.id === host.id),
      'not in the registry',
    )
    await host.close(100)
  }
  const invokeHost = await Host.start({ controller: controller.address, poolTarget: 1, token: INVOKE })
  t.equal(await invokeHost.refused, 'a token with role "invoke" may not register as a host')
  await invokeHost.close(100)
})

// Lives for the whole file: the calls below run on it.
const host = await Host.start({ controller: controller.address, poolTarget: 1, token: HOST })
t.teardown(() => host.close(1000))

t.test('a host token registers', async (t) => {
  await host.registered()
  t.equal(controller.hosts.list().length, 1)
})

t.test('gRPC: each request needs a token with the right role', async (t) => {
  const none = connect(controller.address, { token: '' })
  const bad = connect(controller.address, { token: 'wrong-token-0123456789' })
  const invoke = connect(controller.address, { token: INVOKE })
  const admin = connect(controller.address, { token: ADMIN })
  t.teardown(() => {
    for (const c of [none, bad, invoke, admin]) c.close()
  })

  const src = 'export function addNumbers(a, b) { return a + b }'
  t.match(await failure(none.deploy(src, { module: 'math', runtime: 'js' })), {
    code: 'UNAUTHENTICATED',
    message: 'missing credentials: send "authorization: Bearer TOKEN"',
  })
  t.match(await failure(bad.deploy(src, { module: 'math', runtime: 'js' })), {
    code: 'UNAUTHENTICATED',
    message: 'the token is not valid',
  })
  t.match(await failure(invoke.deploy(src, { module: 'math', runtime: 'js' })), {
    code: 'PERMISSION_DENIED',
    message: 'a token with role "invoke" may not deploy',
  })
  t.equal((await admin.deploy(src, { module: 'math', runtime: 'js' })).functions.length, 1)

  t.match(await failure(none.callFunction('addNumbers', 3, 5)), { code: 'UNAUTHENTICATED' })
  t.match(await failure(bad.callFunction('addNumbers', 3, 5)), { code: 'UNAUTHENTICATED' })
  t.equal(await invoke.callFunction('addNumbers', 3, 5), 8)
  t.equal(await admin.callFunction('addNumbers', 3, 5), 8)

  t.equal((await invoke.list()).length, 1, 'invoke may read functions')
  t.match(await failure(invoke.hosts()), {
    code: 'PERMISSION_DENIED',
    message: 'a token with role "invoke" may not list hosts',
  })
  t.equal((await admin.hosts()).length, 1)
  t.match(await failure(invoke.remove('addNumbers')), { code: 'PERMISSION_DENIED' })
})

t.test('HTTP: 401 without or with a bad token, 200 with an invoke token; health needs none', async (t) => {
  const base = `http://${controller.httpAddress}`
  const call = (token?: string) =>
    fetch(`${base}/v1/call/addNumbers`, {
      method: 'POST',
      body: '[3, 5]',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    })
  const missing = await call()
  t.equal(missing.status, 401)
  t.same(await missing.json(), {
    error: { code: 'UNAUTHENTICATED', message: 'missing credentials: send "authorization: Bearer TOKEN"' },
  })
  const bad = await call('wrong-token-0123456789')
  t.equal(bad.status, 401)
  await bad.arrayBuffer()
  const host = await call(HOST)
  t.equal(host.status, 403)
  t.same(await host.json(), {
    error: { code: 'PERMISSION_DENIED', message: 'a token with role "host" may not call functions' },
  })
  const ok = await call(INVOKE)
  t.equal(ok.status, 200)
  t.equal(await ok.text(), '8')
  t.equal((await fetch(`${base}/healthz`)).status, 200)
})

t.test('HTTP: /metrics needs a metrics or admin token; it names every function and host', async (t) => {
  const scrape = (token?: string) =>
    fetch(`http://${controller.httpAddress}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  const missing = await scrape()
  t.equal(missing.status, 401)
  t.same(await missing.json(), {
    error: { code: 'UNAUTHENTICATED', message: 'missing credentials: send "authorization: Bearer TOKEN"' },
  })
  const invoker = await scrape(INVOKE)
  t.equal(invoker.status, 403)
  t.same(await invoker.json(), {
    error: { code: 'PERMISSION_DENIED', message: 'a token with role "invoke" may not read metrics' },
  })
  for (const token of [METRICS, ADMIN]) {
    const ok = await scrape(token)
    t.equal(ok.status, 200)
    t.match(await ok.text(), /^# HELP osiris_/m)
  }
  const metricsOnly = connect(controller.address, { token: METRICS })
  t.teardown(() => metricsOnly.close())
  t.match(await failure(metricsOnly.callFunction('addNumbers', 1, 2)), {
    code: 'PERMISSION_DENIED',
    message: 'a token with role "metrics" may not call functions',
  })
})

t.test('with auth off, listening beyond loopback is refused', async (t) => {
  await t.rejects(
    Controller.start({ listen: '0.0.0.0:0', httpListen: '127.0.0.1:0', dataDir: join(dataDir, 'open') }),
    {
      code: 'INVALID_ARGUMENT',
      message:
        'refusing to listen on 0.0.0.0 with authentication off: configure API tokens (--tokens-file or OSIRIS_TOKENS), or bind a loopback address',
    },
  )
})

t.test('token configuration is checked', async (t) => {
  t.same(parseTokens('# ops\nadmin aaaaaaaaaaaaaaaa\ninvoke=bbbbbbbbbbbbbbbb', 'tokens.txt'), [
    { role: 'admin', token: 'aaaaaaaaaaaaaaaa' },
    { role: 'invoke', token: 'bbbbbbbbbbbbbbbb' },
  ])
  t.throws(() => parseTokens('root aaaaaaaaaaaaaaaa', 'tokens.txt'), {
    code: 'INVALID_ARGUMENT',
    message: /^tokens\.txt entry 1 must be "ROLE TOKEN" with ROLE one of admin, invoke, host, metrics/,
  })
  t.throws(() => parseTokens('admin short', 'OSIRIS_TOKENS'), { message: /at least 16 characters/ })
})
