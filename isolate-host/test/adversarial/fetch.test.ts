// Adversarial corpus, part 5: fetch (see README.md in this folder). Every
// request goes to this test's own server on 127.0.0.1; everything else is
// refused before a connection is made.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { type Case, runCase } from './corpus.ts'
import { failure, harness, until } from './harness.ts'

const REFUSED = 'fetch failed: fetch to 127.0.0.1 refused: loopback address'

function cases(base: string, port: string): Case[] {
  return [
    {
      name: 'fetch to a loopback server without an allowlist',
      source: `export async function attack(url) { return (await fetch(url)).text() }`,
      args: [`${base}/secret`],
      expect: { code: 'FUNCTION_ERROR', message: `function "attack" threw TypeError: ${REFUSED}` },
    },
    {
      name: 'fetch to loopback spelled every other way: localhost, [::1], 0x7f.1, 2130706433, [::ffff:127.0.0.1], 0.0.0.0',
      source: `export async function attack(port) {
  const hosts = ['localhost', '[::1]', '0x7f.1', '2130706433', '[::ffff:127.0.0.1]', '0.0.0.0']
  const out = []
  for (const h of hosts) { try { await fetch('http://' + h + ':' + port + '/secret'); out.push('fetched') } catch (e) { out.push(e.message.replace(/:.*refused: /, ': refused: ')) } }
  return out
}`,
      args: [port],
      expect: {
        result: [
          'fetch failed: refused: it resolves to 127.0.0.1, a loopback address',
          'fetch failed: refused: loopback address',
          'fetch failed: refused: loopback address',
          'fetch failed: refused: loopback address',
          'fetch failed: refused: loopback address',
          'fetch failed: refused: this network address',
        ],
      },
    },
    {
      name: 'a redirect from an allowed server to a loopback host that is not allowed',
      source: `export async function attack(url) { return (await fetch(url)).text() }`,
      args: [`${base}/redirect`],
      egressAllow: ['127.0.0.1'],
      expect: {
        code: 'FUNCTION_ERROR',
        message: 'function "attack" threw TypeError: fetch failed: fetch to 127.0.0.2 refused: loopback address',
      },
    },
    {
      name: 'constructor-chain walk from a fetch response, its headers and its body',
      source: `export async function attack(url) {
  const r = await fetch(url)
  const walk = (v) => { try { v.constructor.constructor('return process')(); return 'escaped' } catch (e) { return e.name } }
  return [walk(r), walk(r.headers), walk(r.headers.get), walk(await r.bytes()), walk(r.json)]
}`,
      args: [`${base}/ok`],
      egressAllow: ['127.0.0.1'],
      expect: { result: ['EvalError', 'EvalError', 'EvalError', 'EvalError', 'EvalError'] },
    },
    {
      name: 'more fetches in one call than allowed',
      source: `export async function attack(url) { for (let i = 0; i < 60; i++) await fetch(url); return 'all fetched' }`,
      args: [`${base}/ok`],
      egressAllow: ['127.0.0.1'],
      expect: {
        code: 'FUNCTION_ERROR',
        message: 'function "attack" threw TypeError: fetch failed: a call may make at most 50 fetches',
      },
    },
  ]
}

t.test('fetch', async (t) => {
  const server = createServer((req, res) => {
    const port = (server.address() as AddressInfo).port
    if (req.url === '/redirect') return res.writeHead(302, { location: `http://127.0.0.2:${port}/secret` }).end()
    res.writeHead(200).end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const port = String((server.address() as AddressInfo).port)
  for (const c of cases(`http://127.0.0.1:${port}`, port)) await t.test(c.name, (t) => runCase(t, c))
})

t.test('one tenant holding its connections with slow requests does not make another wait', async (t) => {
  const held: ServerResponse[] = []
  const server = createServer((req, res) => {
    if (req.url === '/slow') held.push(res)
    else res.writeHead(200).end('fast')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const res of held) res.end()
    server.closeAllConnections()
    server.close()
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const h = await harness(t)
  const egressAllow = ['127.0.0.1']
  const hog = await h.deploy(
    `export async function hog(url) { return (await Promise.all(Array.from({ length: 20 }, () => fetch(url).then((r) => r.text())))).length }`,
    'hog',
  )
  const victim = await h.deploy(`export async function get(url) { return (await fetch(url)).text() }`, 'victim')
  const hogging = hog.call('hog', { args: [`${base}/slow`], egressAllow, timeoutMs: 20_000 })
  t.ok(await until(() => held.length >= 16, 10_000), `the hog holds ${held.length} connections`)
  const answer = await victim.call('get', { args: [`${base}/fast`], egressAllow, timeoutMs: 2000 }).then(
    (r) => JSON.parse(r.result) as unknown,
    (e: unknown) => e,
  )
  t.equal(answer, 'fast', "the victim's fetch is answered while the hog holds its own pool")
  for (const res of held.splice(0)) res.end('slow')
  t.ok(await until(() => held.length >= 4, 10_000), 'the hog’s queued requests go out on its own connections')
  for (const res of held.splice(0)) res.end('slow')
  t.equal((await hogging).result, '20')
})

t.test('response bodies stream into the isolate, bounded per call by half its memory limit', async (t) => {
  const body = Buffer.alloc(6 * 1024 * 1024, 120)
  const server = createServer((_req, res) => res.writeHead(200).end(body))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big`
  const h = await harness(t)
  const mod = await h.deploy(
    `export async function big(url, n) {
  const responses = await Promise.all(Array.from({ length: n }, () => fetch(url)))
  let total = 0
  for (const r of responses) total += (await r.bytes()).length
  return total
}`,
    'bodies',
  )
  const egressAllow = ['127.0.0.1']
  const one = await mod.call('big', { args: [url, 1], egressAllow, limits: { memoryMb: 32 } })
  t.equal(one.result, String(body.length), 'a 6 MiB body within a 32 MiB function')
  const err = await failure(mod.call('big', { args: [url, 4], egressAllow, limits: { memoryMb: 32 } }))
  t.equal(err.code, 'FUNCTION_ERROR')
  t.equal(
    err.message,
    'function "big" threw TypeError: fetch failed: response bodies in this call over 16777216 bytes (half its memory limit)',
  )
  t.equal(err.breach, undefined)
})

t.test('a fetch URL, method, headers or body over its bound is refused before it leaves the isolate', async (t) => {
  const seen: string[] = []
  const server = createServer((req, res) => {
    seen.push(req.url ?? '')
    res.writeHead(200).end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const h = await harness(t)
  const mod = await h.deploy(
    `export async function attempt(base) {
  // A rope: 2^27 characters that cost a few KiB until something flattens them.
  let rope = 'a'; for (let i = 0; i < 27; i++) rope += rope
  const tries = [
    () => fetch(base + '/?' + rope),
    () => fetch(base, { method: rope }),
    () => fetch(base, { headers: { 'x-big': rope } }),
    () => fetch(base, { headers: Array.from({ length: 101 }, (_, i) => ['x-' + i, '1']) }),
    () => fetch(base, { method: 'POST', body: rope }),
    () => fetch(base, { method: 'POST', body: new Uint8Array(1024 * 1024 + 1) }),
  ]
  const out = []
  for (const attempt of tries) { try { await attempt(); out.push('sent') } catch (e) { out.push(e.name + ': ' + e.message) } }
  return out
}`,
    'bounds',
  )
  const result = JSON.parse(
    (await mod.call('attempt', { args: [base], egressAllow: ['127.0.0.1'] })).result,
  ) as string[]
  t.same(result, [
    'TypeError: fetch: the URL is over 65536 characters',
    'TypeError: fetch: the method is over 32 characters',
    'TypeError: fetch: at most 100 request headers of 65536 characters in all',
    'TypeError: fetch: at most 100 request headers of 65536 characters in all',
    'TypeError: fetch: the request body is over 1048576 bytes',
    'TypeError: fetch: the request body is over 1048576 bytes',
  ])
  t.same(seen, [], 'nothing reached the server')
})
