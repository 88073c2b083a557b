// Adversarial corpus, part 5: fetch (see README.md in this folder). Every
// request goes to this test's own server on 127.0.0.1; everything else is
// refused before a connection is made.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { type Case, runCase } from './corpus.ts'

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
