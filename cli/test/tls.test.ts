// TLS and mTLS with certificates from `osiris certs init`: clients reach the
// controller over TLS (gRPC and HTTPS) and must trust its CA; a host registers
// only with a certificate from the cluster CA, for the role host and under the
// id it names; a host serves only the controller's certificate. Then the whole
// thing through `osiris start --tls`.
import { type ChildProcess, execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { Controller } from '@osiris/controller'
import { Host } from '@osiris/isolate-host'
import {
  bindServer,
  type ControllerMessage,
  dialTls,
  type HostMessageOut,
  HostRegistry,
  HostService,
  loadTls,
  serverCredentials,
  type TlsDial,
} from '@osiris/proto'
import { connect, type OsirisError } from '@osiris/sdk'
import t from 'tap'
import { runCli, spawnOsiris, startPlatform, stopOnTeardown } from './helpers/platform.ts'

const PYTHON_SDK = fileURLToPath(new URL('../../sdk/python', import.meta.url))

/** Runs Python `code` with the SDK on its path; resolves its output whatever its exit. */
function runPython(code: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const options = { env: { ...process.env, PYTHONPATH: PYTHON_SDK, ...env } }
    execFile('python3', ['-c', code], options, (error, stdout, stderr) =>
      resolve({ stdout, stderr: stderr || (error ? String(error) : '') }),
    )
  })
}

/** The first line a child process writes to stderr. */
function firstStderrLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (stderr.includes('\n')) resolve(stderr.slice(0, stderr.indexOf('\n')))
    })
  })
}

const dir = mkdtempSync(join(tmpdir(), 'osiris-tls-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const certs = join(dir, 'certs')
const foreign = join(dir, 'foreign')
for (const [at, hosts] of [
  [certs, '2'],
  [foreign, '1'],
]) {
  const made = await runCli(['certs', 'init', '--dir', at as string, '--hosts', hosts as string])
  if (made.code !== 0) throw new Error(`certs init failed: ${made.stderr}`)
}
const pem = (file: string): Buffer => readFileSync(join(certs, file))
const files = (at: string, name: string) => ({
  cert: join(at, `${name}.pem`),
  key: join(at, `${name}.key`),
  ca: join(certs, 'ca.pem'),
})

const controller = await Controller.start({
  listen: '127.0.0.1:0',
  httpListen: '127.0.0.1:0',
  dataDir: join(dir, 'data'),
  tls: files(certs, 'controller'),
})
t.teardown(() => controller.close(1000))

/** Dials HostRegistry.Connect as a host would, registering as `hostId`; resolves the stream's final status. */
function register(dial: TlsDial | undefined, hostId: string): Promise<grpc.StatusObject> {
  const client = dial
    ? new HostRegistry(controller.address, dial.credentials, dial.options)
    : new HostRegistry(controller.address, grpc.credentials.createInsecure())
  return new Promise((resolve) => {
    const stream: grpc.ClientDuplexStream<HostMessageOut, ControllerMessage> = client.Connect()
    stream.on('data', (message: ControllerMessage) => {
      if (message.message === 'registered') stream.cancel()
    })
    stream.on('error', () => {})
    stream.on('status', (status) => {
      client.close()
      resolve(status)
    })
    stream.write({
      register: { hostId, address: '127.0.0.1:1', runtimes: ['js'], capacity: 1, pid: process.pid },
    })
  })
}

/**
 * TLS to `address` trusting the cluster CA, presenting the certificate `name`
 * from `at` (none: no certificate); `host` names the host expected there.
 */
const tlsTo = (address: string, at?: string, name?: string, host?: string): TlsDial =>
  dialTls(
    address,
    {
      ca: pem('ca.pem'),
      ...(at && name && { cert: readFileSync(join(at, `${name}.pem`)), key: readFileSync(join(at, `${name}.key`)) }),
    },
    host === undefined ? undefined : { role: 'host', name: host },
  )

t.test('only a certificate from the cluster CA, for a host, under its own id, may register', async (t) => {
  const none = await register(tlsTo(controller.address), 'host-1')
  t.equal(none.code, grpc.status.UNAUTHENTICATED)
  t.equal(none.details, 'register as a host needs a client certificate signed by the cluster CA')
  const unknown = await register(tlsTo(controller.address, foreign, 'host-1'), 'host-1')
  t.equal(unknown.code, grpc.status.UNAUTHENTICATED, 'a certificate from another CA')
  t.equal(unknown.details, 'register as a host needs a client certificate signed by the cluster CA')
  const controllerCert = await register(tlsTo(controller.address, certs, 'controller'), 'osiris-controller')
  t.equal(controllerCert.code, grpc.status.UNAUTHENTICATED)
  t.equal(controllerCert.details, 'a certificate for a controller peer may not register as a host')
  const impostor = await register(tlsTo(controller.address, certs, 'host-2'), 'host-1')
  t.equal(impostor.code, grpc.status.PERMISSION_DENIED)
  t.equal(impostor.details, `this host's certificate is for "host-2", not "host-1"`)
  const plaintext = await register(undefined, 'host-1')
  t.equal(plaintext.code, grpc.status.UNAVAILABLE, 'plaintext does not reach a TLS server')
  t.same(controller.hosts.list(), [], 'none of them is in the registry')
  const own = await register(tlsTo(controller.address, certs, 'host-1'), 'host-1')
  t.equal(own.code, grpc.status.CANCELLED, 'its own certificate registers (then the test hangs up)')
})

t.test('a host whose certificate the controller does not know is refused', async (t) => {
  const host = await Host.start({
    controller: controller.address,
    poolTarget: 1,
    tls: { ...files(foreign, 'host-1'), ca: join(certs, 'ca.pem') },
  })
  t.equal(await host.refused, 'register as a host needs a client certificate signed by the cluster CA')
  t.same(controller.hosts.list(), [])
  await host.close(100)
})

t.test('a host that does not trust the controller says so, and keeps trying', async (t) => {
  const host = spawnOsiris([
    ...['host', '--controller', controller.address],
    ...['--tls-cert', join(certs, 'host-1.pem'), '--tls-key', join(certs, 'host-1.key')],
    ...['--tls-ca', join(foreign, 'ca.pem'), '--pool', '1'],
  ])
  stopOnTeardown(t, host)
  t.match(
    await firstStderrLine(host),
    new RegExp(`^cannot reach controller ${controller.address} \\(retrying\\): .*certificate`),
    'the reason names the certificate',
  )
  t.same(controller.hosts.list(), [], 'and it is not registered')
})

t.test('a host does not take another host for its controller', async (t) => {
  // A server holding host-2's certificate (from the right CA) where the host looks for its controller.
  const impostor = new grpc.Server()
  const port = await bindServer(impostor, '127.0.0.1', 0, serverCredentials(loadTls(files(certs, 'host-2')), 'request'))
  t.teardown(() => impostor.forceShutdown())
  const host = spawnOsiris([
    ...['host', '--controller', `127.0.0.1:${port}`],
    ...['--tls', certs, '--id', 'host-1', '--pool', '1'],
  ])
  stopOnTeardown(t, host)
  t.match(
    await firstStderrLine(host),
    /^cannot reach controller 127\.0\.0\.1:\d+ \(retrying\): .*a certificate for a host peer may not serve as controller/,
  )
})

t.test('a host must be started with a host certificate, under its id', async (t) => {
  await t.rejects(Host.start({ controller: controller.address, hostId: 'host-9', tls: files(certs, 'host-1') }), {
    code: 'INVALID_ARGUMENT',
    message: 'host id "host-9" does not match its TLS certificate, which is for "host-1"',
  })
  await t.rejects(Host.start({ controller: controller.address, tls: files(certs, 'controller') }), {
    code: 'INVALID_ARGUMENT',
    message: `the TLS certificate ${join(certs, 'controller.pem')} is not a host's: a host needs one with OU=host and its id as CN`,
  })
  await t.rejects(
    Host.start({ controller: controller.address, tls: { ...files(certs, 'host-1'), key: join(dir, 'none') } }),
    {
      code: 'INVALID_ARGUMENT',
      message: new RegExp(`^cannot read the TLS key ${join(dir, 'none')}: ENOENT`),
    },
  )
})

t.test('with its certificate a host registers under the certificate id and serves calls over TLS', async (t) => {
  const host = await Host.start({ controller: controller.address, poolTarget: 1, tls: files(certs, 'host-1') })
  t.teardown(() => host.close(1000))
  await host.registered()
  t.equal(host.id, 'host-1')
  t.same(
    controller.hosts.list().map((h) => h.id),
    ['host-1'],
  )

  const client = connect(controller.address, { ca: pem('ca.pem') })
  t.teardown(() => client.close())
  await client.deploy('export function addNumbers(a, b) { return a + b }', { module: 'math', runtime: 'js' })
  t.equal(await client.callFunction('addNumbers', 3, 5), 8)

  const untrusting = connect(controller.address)
  t.teardown(() => untrusting.close())
  const plain = (await untrusting.callFunction('addNumbers', 1, 2).catch((e: unknown) => e)) as OsirisError
  t.equal(plain.code, 'UNAVAILABLE', 'a plaintext client gets nowhere')
  const otherCa = connect(controller.address, { ca: readFileSync(join(foreign, 'ca.pem')), timeoutMs: 1000 })
  t.teardown(() => otherCa.close())
  const wrong = (await otherCa.callFunction('addNumbers', 1, 2).catch((e: unknown) => e)) as OsirisError
  t.equal(wrong.code, 'UNAVAILABLE', 'a client trusting another CA does not accept the controller')

  // The host's own port: only the controller's certificate may call it.
  const invoke = (dial: TlsDial): Promise<grpc.ServiceError | undefined> => {
    const direct = new HostService(host.address, dial.credentials, dial.options)
    return new Promise((resolve) => {
      direct.Invoke(
        {
          callId: 'c1',
          functionName: 'addNumbers',
          version: 1,
          runtime: 'js',
          codeHash: '',
          args: ['1', '2'],
          module: 'math',
          timeoutMs: 1000,
          limits: null,
          egressAllow: [],
        },
        new grpc.Metadata(),
        { deadline: Date.now() + 3000 },
        (error: grpc.ServiceError | null) => {
          direct.close()
          resolve(error ?? undefined)
        },
      )
    })
  }
  const fromHost = await invoke(tlsTo(host.address, certs, 'host-2', 'host-1'))
  t.equal(fromHost?.code, grpc.status.PERMISSION_DENIED)
  t.equal(fromHost?.details, 'a certificate for a host peer may not call a host')
  const anonymous = await invoke(tlsTo(host.address, undefined, undefined, 'host-1'))
  t.equal(anonymous?.code, grpc.status.UNAVAILABLE, 'no client certificate: no handshake')
})

t.test('the HTTP gateway serves HTTPS', async (t) => {
  const [hostname, port] = controller.httpAddress.split(':')
  const get = (ca: Buffer): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ hostname, port: Number(port), path: '/healthz', ca }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end()
    })
  const ok = await get(pem('ca.pem'))
  t.equal(ok.status, 200)
  await t.rejects(get(readFileSync(join(foreign, 'ca.pem'))), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })
})

t.test('with auth on, a client certificate from the CA stands in for a token, with its role', async (t) => {
  for (const [at, name, role] of [
    [certs, 'ada', 'invoke'],
    [certs, 'root', 'admin'],
    [foreign, 'eve', 'admin'],
  ] as const) {
    const made = await runCli(['certs', 'client', name, '--role', role, '--dir', at])
    t.equal(made.stdout, `wrote client-${name}.pem, client-${name}.key in ${at}\n`, made.stderr)
  }
  const ADMIN = 'tls-admin-token-0123456789'
  const secured = await Controller.start({
    listen: '127.0.0.1:0',
    httpListen: '127.0.0.1:0',
    dataDir: join(dir, 'auth-data'),
    tls: files(certs, 'controller'),
    tokens: [{ role: 'admin', token: ADMIN }],
  })
  t.teardown(() => secured.close(1000))
  // No host token: its certificate (OU=host) is its credential.
  const host = await Host.start({ controller: secured.address, poolTarget: 1, tls: files(certs, 'host-1') })
  t.teardown(() => host.close(1000))
  await host.registered()

  const as = (at: string, name: string, token?: string) => {
    const client = connect(secured.address, {
      ca: pem('ca.pem'),
      cert: readFileSync(join(at, `client-${name}.pem`)),
      key: readFileSync(join(at, `client-${name}.key`)),
      ...(token ? { token } : {}),
    })
    t.teardown(() => client.close())
    return client
  }
  t.throws(() => connect(secured.address, { ca: pem('ca.pem'), cert: pem('client-ada.pem') }), {
    code: 'INVALID_ARGUMENT',
    message: 'a client certificate needs its key, and a key its certificate',
  })
  t.throws(() => connect(secured.address, { cert: pem('client-ada.pem'), key: pem('client-ada.key') }), {
    code: 'INVALID_ARGUMENT',
    message: 'a client certificate needs TLS: give the CA too (ca or OSIRIS_CA)',
  })
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (e: unknown) => e as OsirisError,
    )
  const source = 'export function addNumbers(a, b) { return a + b }'
  await as(certs, 'root').deploy(source, { module: 'math', runtime: 'js' })
  const invoker = as(certs, 'ada')
  t.equal(await invoker.callFunction('addNumbers', 3, 5), 8, 'an invoke certificate calls')
  const denied = await failure(invoker.deploy(source, { module: 'math', runtime: 'js' }))
  t.same([denied?.code, denied?.message], ['PERMISSION_DENIED', 'a certificate with role "invoke" may not deploy'])
  t.ok((await as(certs, 'ada', ADMIN).deploy(source, { module: 'math', runtime: 'js' })).version > 0, 'a token wins')
  const stranger = await failure(as(foreign, 'eve').callFunction('addNumbers', 1, 2))
  t.same(
    [stranger?.code, stranger?.message],
    ['UNAUTHENTICATED', 'missing credentials: send "authorization: Bearer TOKEN"'],
    'a certificate from another CA is no credential',
  )

  const [hostname, port] = secured.httpAddress.split(':')
  const list = (at?: string, name?: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const client =
        at && name
          ? { cert: readFileSync(join(at, `client-${name}.pem`)), key: readFileSync(join(at, `client-${name}.key`)) }
          : {}
      const req = request(
        { hostname, port: Number(port), path: '/v1/functions', ca: pem('ca.pem'), ...client },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      req.end()
    })
  t.equal(await list(certs, 'ada'), 200, 'HTTPS with an invoke certificate')
  t.equal(await list(), 401, 'HTTPS with neither token nor certificate')
  t.equal(await list(foreign, 'eve'), 401, 'HTTPS with a certificate from another CA')

  const cli = await runCli(['call', 'addNumbers', '3', '5', '--ca', join(certs, 'ca.pem')], {
    OSIRIS_ADDR: secured.address,
    OSIRIS_CERT: join(certs, 'client-ada.pem'),
    OSIRIS_KEY: join(certs, 'client-ada.key'),
  })
  t.equal(cli.stdout, '8\n', `the CLI with OSIRIS_CERT/OSIRIS_KEY: ${cli.stderr}`)
  const cliFlags = await runCli([
    ...['call', 'addNumbers', '1', '2', '--addr', secured.address, '--ca', join(certs, 'ca.pem')],
    ...['--cert', join(certs, 'client-ada.pem'), '--key', join(certs, 'client-ada.key')],
  ])
  t.equal(cliFlags.stdout, '3\n', `the CLI with --cert/--key: ${cliFlags.stderr}`)
  const python = await runPython("import osiris; print(osiris.call_function('addNumbers', 3, 5))", {
    OSIRIS_URL: `https://${secured.httpAddress}`,
    OSIRIS_CA: join(certs, 'ca.pem'),
    OSIRIS_CERT: join(certs, 'client-ada.pem'),
    OSIRIS_KEY: join(certs, 'client-ada.key'),
  })
  t.equal(python.stdout, '8\n', `the Python SDK with a client certificate: ${python.stderr}`)
})

t.test('osiris start --tls: hosts register with their certificates; client verbs take --ca', async (t) => {
  const platform = await startPlatform(t, join(dir, 'start-data'), ['--tls', certs, '--hosts', '2'])
  t.ok(
    platform.lines.includes(
      `tls: on (certificate ${join(certs, 'controller.pem')}); hosts must present a certificate signed by ${join(certs, 'ca.pem')}`,
    ),
    'banner',
  )
  t.same([...platform.hostPids().keys()].sort(), ['host-1', 'host-2'], 'hosts named by their certificates')
  const file = join(dir, 'math.js')
  writeFileSync(file, 'export function addNumbers(a, b) { return a + b }\n')
  const env = { OSIRIS_ADDR: platform.grpc }
  const deployed = await runCli(['deploy', file, '--ca', join(certs, 'ca.pem')], env)
  t.equal(deployed.code, 0, deployed.stderr)
  const call = await runCli(['call', 'addNumbers', '3', '5'], { ...env, OSIRIS_CA: join(certs, 'ca.pem') })
  t.equal(call.stdout, '8\n', call.stderr)
  const python = await runPython("import osiris; print(osiris.call_function('addNumbers', 3, 5))", {
    OSIRIS_URL: `https://${platform.http}`,
    OSIRIS_CA: join(certs, 'ca.pem'),
  })
  t.equal(python.stdout, '8\n', `the Python SDK over HTTPS: ${python.stderr}`)
  const missing = await runCli(['ls', '--ca', join(dir, 'nope.pem')], env)
  t.equal(missing.code, 2)
  t.equal(missing.stderr, `error USAGE: cannot read --ca ${join(dir, 'nope.pem')}: ENOENT\n`)
  const noCert = await runCli(['start', '--tls', foreign, '--hosts', '2', '--port', '0', '--http-port', '0'])
  t.equal(noCert.code, 2)
  t.equal(
    noCert.stderr,
    `error USAGE: ${foreign} has no certificate for host-2: run osiris certs host host-2 --dir ${foreign}\n`,
  )
})
