// A host's HostService answers only the controller it registered with, in
// token mode too: an outsider on the network with a plain gRPC client (no
// credential, or a guessed one) is refused before anything runs, so it can
// neither run its own code with its own egress allowances and limits, nor
// poison a victim's version. A host with no credentials listens on loopback only.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { Host } from '@osiris/isolate-host'
import { CALL_KEY_METADATA, HostService, type InvokeRequest, OsirisError } from '@osiris/proto'
import { connect } from '@osiris/sdk'
import t from 'tap'
import { alive, startPlatform } from './helpers/platform.ts'

const ADMIN = 'host-auth-admin-token-0123456789'

/** A loopback HTTP server counting the requests for each path: the side effects of tenant code. */
async function sideEffects(t: { teardown(fn: () => unknown): void }) {
  const hits = new Map<string, number>()
  const server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1)
    res.end('ok')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits }
}

/** Calls one HostService method with a raw client built from the proto alone; resolves its error, if any. */
function raw(
  address: string,
  method: 'Invoke' | 'Validate',
  request: object,
  metadata = new grpc.Metadata(),
): Promise<grpc.ServiceError | undefined> {
  const client = new HostService(address, grpc.credentials.createInsecure())
  return new Promise((resolve) => {
    const done = (error: grpc.ServiceError | null) => {
      client.close()
      resolve(error ?? undefined)
    }
    const options = { deadline: Date.now() + 5000 }
    if (method === 'Invoke') client.Invoke(request, metadata, options, done)
    else client.Validate(request, metadata, options, done)
  })
}

t.test('token mode: a raw gRPC client is refused; the victim version cannot be poisoned', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'osiris-host-auth-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const effects = await sideEffects(t)
  const platform = await startPlatform(t, join(dir, 'data'), [], { OSIRIS_TOKENS: `admin=${ADMIN}` })
  const client = connect(platform.grpc, { token: ADMIN })
  t.teardown(() => client.close())
  await client.deploy('export function victim(x) { return "victim:" + x }', { module: 'victim', runtime: 'js' })
  await client.deploy('export function neighbour(n) { return n + 1 }', { module: 'neighbour', runtime: 'js' })
  t.equal(await client.callFunction('victim', 'a'), 'victim:a')
  const victim = await client.get('victim')
  const [host] = await client.hosts()
  if (!host) throw new Error('no host registered')
  const pid = host.pid

  // A neighbour keeps calling throughout.
  let neighbourCalls = 0
  const neighbourFailures: unknown[] = []
  let attacking = true
  const neighbour = (async () => {
    while (attacking) {
      await client.callFunction('neighbour', neighbourCalls).then(
        () => neighbourCalls++,
        (error: unknown) => neighbourFailures.push(error),
      )
    }
  })()

  // The attacker's code, its own egress allowance (loopback) and limits, under the victim's version.
  const evil = `export function victim(x) { return fetch("${effects.url}/evil").then(() => "poisoned") }`
  const refusedValidate = await raw(host.address, 'Validate', { runtime: 'js', source: evil, filename: 'evil.js' })
  t.equal(refusedValidate?.code, grpc.status.UNAUTHENTICATED, 'Validate without a credential')
  t.equal(refusedValidate?.details, 'this host answers only the controller it registered with: no osiris-call-key')
  const invoke: Partial<InvokeRequest> = {
    callId: 'attack-1',
    functionName: 'victim',
    version: victim.version,
    runtime: 'js',
    codeHash: createHash('sha256').update(evil).digest('hex'),
    args: ['"stolen"'],
    module: victim.module,
    timeoutMs: 5000,
    limits: { timeoutMs: 300_000, cpuMs: 300_000, memoryMb: 1024 },
    egressAllow: ['127.0.0.1'],
  }
  const refusedInvoke = await raw(host.address, 'Invoke', invoke)
  t.equal(refusedInvoke?.code, grpc.status.UNAUTHENTICATED, 'Invoke without a credential')
  const guessed = new grpc.Metadata()
  guessed.set(CALL_KEY_METADATA, 'a'.repeat(43))
  guessed.set('authorization', `Bearer ${ADMIN}`)
  const wrongKey = await raw(host.address, 'Invoke', invoke, guessed)
  t.equal(wrongKey?.code, grpc.status.UNAUTHENTICATED, "even the cluster's admin token is no host credential")
  t.equal(wrongKey?.details, 'this host answers only the controller it registered with: a wrong osiris-call-key')

  // The victim's own calls still run the victim's code, and nothing the attacker sent ran.
  t.equal(await client.callFunction('victim', 'b'), 'victim:b')
  attacking = false
  await neighbour
  t.equal(effects.hits.get('/evil') ?? 0, 0, "the attacker's code never ran")
  t.same(neighbourFailures, [], 'the neighbour never failed')
  t.ok(neighbourCalls > 0, `the neighbour answered ${neighbourCalls} calls meanwhile`)
  const [after] = await client.hosts()
  t.equal(after?.pid, pid, 'the host process is the same')
  t.ok(alive(pid))
})

t.test('a host with neither token nor certificate listens on loopback only', async (t) => {
  const error = await Host.start({ controller: '127.0.0.1:1', listen: '0.0.0.0:0', poolTarget: 1 }).then(
    (host) => host.close(0).then(() => undefined),
    (e: unknown) => e,
  )
  t.ok(error instanceof OsirisError)
  t.equal((error as OsirisError).code, 'INVALID_ARGUMENT')
  t.equal(
    (error as OsirisError).message,
    'refusing to listen on 0.0.0.0 with no credentials: give this host a token (--token or OSIRIS_TOKEN) or a TLS certificate (--tls), or bind a loopback address',
  )
  const metrics = await Host.start({
    controller: '127.0.0.1:1',
    poolTarget: 1,
    metricsListen: '0.0.0.0:0',
  }).then(
    (host) => host.close(0).then(() => undefined),
    (e: unknown) => e,
  )
  t.equal((metrics as OsirisError).code, 'INVALID_ARGUMENT', 'its metrics too')
  t.equal(
    (metrics as OsirisError).message,
    'refusing to serve metrics on 0.0.0.0 without a metrics token (--metrics-token or OSIRIS_METRICS_TOKEN): they name every function run here; or bind a loopback address',
  )
})

t.test("a host's metrics with a token answer only that token", async (t) => {
  const token = 'host-metrics-token-0123456789'
  const host = await Host.start({
    controller: '127.0.0.1:1',
    poolTarget: 1,
    metricsListen: '127.0.0.1:0',
    metricsToken: token,
  })
  t.teardown(() => host.close(0))
  const scrape = (header?: string) =>
    fetch(`http://${host.metricsAddress}/metrics`, { headers: header ? { authorization: header } : {} })
  const missing = await scrape()
  t.equal(missing.status, 401)
  t.equal(await missing.text(), 'this host\'s metrics need "authorization: Bearer TOKEN" (its --metrics-token)\n')
  const wrong = await scrape('Bearer not-the-metrics-token-at-all')
  t.equal(wrong.status, 401)
  await wrong.arrayBuffer()
  const ok = await scrape(`Bearer ${token}`)
  t.equal(ok.status, 200)
  t.match(await ok.text(), /^# HELP osiris_host_/m)
})
