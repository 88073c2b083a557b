// fetch from inside the isolate, carried out by the host under the egress
// policy. Every request here goes to a server this test owns on 127.0.0.1;
// refusals of other ranges are checked without any traffic (egress.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { checkHost, egressPolicy, refusedRange } from '../src/egress.ts'
import { failure, harness, value } from './adversarial/harness.ts'

async function server(t: Test) {
  const seen: string[] = []
  const hangClosed = Promise.withResolvers<void>()
  const s = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`)
    const port = (s.address() as AddressInfo).port
    if (req.url === '/json')
      return res.writeHead(200, { 'content-type': 'application/json', 'x-a': '1' }).end('{"hello":"wörld"}')
    if (req.url === '/echo') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () =>
        res.writeHead(201).end(`${req.method} ${req.headers['x-token']} ${Buffer.concat(chunks).toString()}`),
      )
      return
    }
    if (req.url === '/to-self') return res.writeHead(302, { location: '/json' }).end()
    if (req.url === '/to-other-loopback') return res.writeHead(302, { location: `http://127.0.0.2:${port}/json` }).end()
    if (req.url === '/to-localhost') return res.writeHead(307, { location: `http://localhost:${port}/json` }).end()
    if (req.url === '/loop') return res.writeHead(302, { location: '/loop' }).end()
    if (req.url === '/huge') return res.writeHead(200).end(Buffer.alloc(9 * 1024 * 1024, 120))
    if (req.url === '/hang') {
      req.socket.once('close', () => hangClosed.resolve())
      return
    }
    res.writeHead(404).end('nope')
  })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    s.closeAllConnections()
    return new Promise((resolve) => s.close(() => resolve(undefined)))
  })
  return { base: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen, hangClosed: hangClosed.promise }
}

const FETCHER = `
export async function get(url, init) {
  const r = await fetch(url, init)
  return { status: r.status, ok: r.ok, statusText: r.statusText, type: r.headers.get('content-type'), a: r.headers.get('X-A'), redirected: r.redirected, url: r.url, body: await r.text() }
}
export async function json(url) { return (await fetch(url)).json() }
export async function attempt(url) { try { await (await fetch(url)).text(); return 'fetched' } catch (e) { return e.name + ': ' + e.message } }
`

t.test('the address ranges refused by default, checked without traffic', async (t) => {
  t.equal(refusedRange('127.0.0.1'), 'loopback')
  t.equal(refusedRange('::1'), 'loopback')
  t.equal(refusedRange('169.254.169.254'), 'link-local (cloud metadata)')
  t.equal(refusedRange('fd00:ec2::254'), 'unique local (private, cloud metadata)')
  t.equal(refusedRange('100.100.100.200'), 'shared (CGNAT, cloud metadata)')
  t.equal(refusedRange('10.1.2.3'), 'private')
  t.equal(refusedRange('192.168.0.1'), 'private')
  t.equal(refusedRange('172.31.255.255'), 'private')
  t.equal(refusedRange('0.0.0.0'), 'this network')
  t.equal(refusedRange('::ffff:127.0.0.1'), 'loopback', 'IPv4-mapped IPv6')
  t.equal(refusedRange('::ffff:7f00:1'), 'loopback', 'IPv4-mapped IPv6, hex form')
  t.equal(refusedRange('64:ff9b::a9fe:a9fe'), 'link-local (cloud metadata)', 'NAT64')
  t.equal(refusedRange('fe80::1'), 'link-local')
  t.equal(refusedRange('224.0.0.1'), 'multicast')
  t.equal(refusedRange('93.184.216.34'), undefined, 'a public address')
  t.equal(refusedRange('2606:4700::1111'), undefined)
  t.throws(() => checkHost(egressPolicy(), '169.254.169.254'), {
    name: 'EgressRefused',
    message: 'fetch to 169.254.169.254 refused: link-local (cloud metadata) address',
  })
  t.doesNotThrow(() => checkHost(egressPolicy(['127.0.0.1']), '127.0.0.1'), 'an allowlisted host')
})

t.test('loopback is refused by default, before any connection', async (t) => {
  const { base, seen } = await server(t)
  const h = await harness(t)
  const mod = await h.deploy(FETCHER)
  const port = new URL(base).port
  t.same(
    await value(mod.call('attempt', { args: [`${base}/json`] })),
    'TypeError: fetch failed: fetch to 127.0.0.1 refused: loopback address',
  )
  t.same(
    await value(mod.call('attempt', { args: [`http://localhost:${port}/json`] })),
    'TypeError: fetch failed: fetch to localhost refused: it resolves to 127.0.0.1, a loopback address',
  )
  t.same(
    await value(mod.call('attempt', { args: [`http://2130706433:${port}/json`] })),
    'TypeError: fetch failed: fetch to 127.0.0.1 refused: loopback address',
    'a decimal IP is normalised by the URL parser first',
  )
  t.same(
    await value(mod.call('attempt', { args: [`http://[::ffff:127.0.0.1]:${port}/json`] })),
    'TypeError: fetch failed: fetch to ::ffff:7f00:1 refused: loopback address',
  )
  t.same(
    await value(mod.call('attempt', { args: ['file:///etc/passwd'] })),
    'TypeError: fetch failed: file: URLs cannot be fetched',
  )
  const uncaught = await failure(mod.call('get', { args: [`${base}/json`] }))
  t.equal(uncaught.code, 'FUNCTION_ERROR')
  t.equal(
    uncaught.message,
    'function "get" threw TypeError: fetch failed: fetch to 127.0.0.1 refused: loopback address',
  )
  t.same(seen, [], 'the server never saw a request')
})

t.test('an allowlisted loopback server: GET, POST, headers, JSON, redirects checked at every hop', async (t) => {
  const { base } = await server(t)
  const h = await harness(t)
  const mod = await h.deploy(FETCHER)
  const egressAllow = ['127.0.0.1']
  t.same(await value(mod.call('get', { args: [`${base}/json`], egressAllow })), {
    status: 200,
    ok: true,
    statusText: 'OK',
    type: 'application/json',
    a: '1',
    redirected: false,
    url: `${base}/json`,
    body: '{"hello":"wörld"}',
  })
  t.same(await value(mod.call('json', { args: [`${base}/json`], egressAllow })), { hello: 'wörld' })
  const posted = (await value(
    mod.call('get', {
      args: [`${base}/echo`, { method: 'POST', body: 'ünï', headers: { 'x-token': 't1' } }],
      egressAllow,
    }),
  )) as { status: number; body: string }
  t.same([posted.status, posted.body], [201, 'POST t1 ünï'])
  const followed = (await value(mod.call('get', { args: [`${base}/to-self`], egressAllow }))) as Record<string, unknown>
  t.same([followed.redirected, followed.url, followed.body], [true, `${base}/json`, '{"hello":"wörld"}'])
  t.same(
    await value(mod.call('attempt', { args: [`${base}/to-other-loopback`], egressAllow })),
    'TypeError: fetch failed: fetch to 127.0.0.2 refused: loopback address',
    'a redirect to a host that is not allowed is refused',
  )
  t.same(
    await value(mod.call('attempt', { args: [`${base}/to-localhost`], egressAllow })),
    'TypeError: fetch failed: fetch to localhost refused: it resolves to 127.0.0.1, a loopback address',
    'the allowlist names hosts, not addresses they happen to share',
  )
  t.same(
    await value(mod.call('attempt', { args: [`${base}/loop`], egressAllow })),
    'TypeError: fetch failed: more than 5 redirects',
  )
  t.same(
    await value(mod.call('attempt', { args: [`${base}/huge`], egressAllow })),
    'TypeError: fetch failed: response body over 8388608 bytes',
  )
})

t.test('a response that never comes ends with the call: DEADLINE_EXCEEDED, request aborted', async (t) => {
  const { base, seen, hangClosed } = await server(t)
  const h = await harness(t)
  const mod = await h.deploy(FETCHER)
  const err = await failure(mod.call('get', { args: [`${base}/hang`], egressAllow: ['127.0.0.1'], timeoutMs: 300 }))
  t.equal(err.code, 'DEADLINE_EXCEEDED')
  t.equal(err.message, 'function "get" ran past its 300 ms timeout')
  t.same(seen, ['GET /hang'])
  const notClosed = new Promise<string>((resolve) => setTimeout(() => resolve('still open after 5 s'), 5000).unref())
  t.equal(await Promise.race([hangClosed.then(() => 'closed'), notClosed]), 'closed', 'the host aborted the request')
})
