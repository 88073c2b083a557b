// What a JavaScript or TypeScript developer expects, end to end through the
// CLI, the controller and a host: optional parameters may be left out, a named
// default export is deployed under its name, a value JSON would lose is an
// error naming it, an uncaught error and a stray rejection are in the logs
// with their stack (naming the .ts file), and a run-over is reported against
// the limit as the user set it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@osiris/sdk'
import t from 'tap'
import { eventually, runCli, startPlatform } from './helpers/platform.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-expect-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const platform = await startPlatform(t, join(dir, 'data'))
const osiris = connect(platform.grpc)
t.teardown(() => osiris.close())
const env = { OSIRIS_ADDR: platform.grpc }
const file = join(dir, 'greet.ts')
writeFileSync(
  file,
  `export function hello(name: string, greeting?: string): string {
  return (greeting ?? 'hello') + ' ' + name
}
export default function handler(x: number): number { return x * 2 }
export function boom(): never {
  throw new TypeError('kaput')
}
export async function slow(): Promise<void> { await new Promise(() => {}) }
export function tally(words: string[]) {
  const m = new Map<string, number>()
  for (const w of words) m.set(w, (m.get(w) ?? 0) + 1)
  return m
}
export function floating(): string {
  Promise.reject(new Error('nobody handles me'))
  return 'returned normally'
}
`,
)

t.test('deploy lists optional parameters and the default export', async (t) => {
  const deployed = await runCli(['deploy', file, '--timeout', '2s'], env)
  t.equal(deployed.code, 0, deployed.stderr)
  t.match(deployed.stdout, /^ {2}hello\(name, greeting\?\)$/m)
  t.match(deployed.stdout, /^ {2}handler\(x\) \(default export\)$/m)
  const ls = await runCli(['ls'], env)
  t.match(ls.stdout, /hello.*\(name, greeting\?\)/)
})

t.test('an optional parameter may be left out; the default export is called by its name', async (t) => {
  const one = await runCli(['call', 'hello', 'ada'], env)
  t.equal(one.code, 0, one.stderr)
  t.equal(one.stdout, '"hello ada"\n')
  const two = await runCli(['call', 'hello', 'ada', 'hi'], env)
  t.equal(two.stdout, '"hi ada"\n')
  const three = await runCli(['call', 'hello', 'a', 'b', 'c'], env)
  t.equal(three.code, 1)
  t.equal(three.stderr, 'error INVALID_ARGUMENT: function "hello" takes 1 to 2 arguments, got 3\n')
  t.equal(await osiris.callFunction('handler', 21), 42)
})

t.test('a Map result is RESULT_NOT_JSON naming it, not {}', async (t) => {
  const cli = await runCli(['call', 'tally', '["a","b","a"]'], env)
  t.equal(cli.code, 1)
  t.equal(
    cli.stderr,
    'error RESULT_NOT_JSON: function "tally" returned a value that cannot be encoded as JSON: result is a Map (JSON has no Map: convert it, e.g. Object.fromEntries(map))\n',
  )
})

t.test('an uncaught error is in the logs with its stack, which names the .ts file', async (t) => {
  const cli = await runCli(['call', 'boom'], env)
  t.equal(cli.code, 1)
  t.match(cli.stderr, /^error FUNCTION_ERROR: function "boom" threw TypeError: kaput\n/)
  t.match(cli.stderr, /at boom \(greet\.ts:6:9\)/)
  await eventually(
    async () => (await runCli(['logs', 'boom'], env)).stdout.includes('error v1'),
    10_000,
    'the uncaught error in osiris logs',
  )
  const logs = await runCli(['logs', 'boom'], env)
  t.match(logs.stdout, /error v1 \S+ Uncaught TypeError: kaput\n {4}at boom \(greet\.ts:6:9\)/)
})

t.test('a stray rejection: the call answers what it returned, the rejection is logged', async (t) => {
  const cli = await runCli(['call', 'floating'], env)
  t.equal(cli.code, 0, cli.stderr)
  t.equal(cli.stdout, '"returned normally"\n')
  await eventually(
    async () =>
      (await runCli(['logs', 'floating'], env)).stdout.includes('Uncaught (in promise) Error: nobody handles me'),
    10_000,
    'the stray rejection in osiris logs',
  )
})

t.test("a run-over is reported against the limit as deployed, the caller's deadline as the caller's", async (t) => {
  const cli = await runCli(['call', 'slow'], env)
  t.equal(cli.code, 1)
  t.equal(cli.stderr, 'error DEADLINE_EXCEEDED: function "slow" ran past its 2000 ms timeout\n')
  const http = await fetch(`http://${platform.http}/v1/call/slow`, { method: 'POST', body: '[]' })
  t.equal(http.status, 504)
  t.same(await http.json(), {
    error: { code: 'DEADLINE_EXCEEDED', message: 'function "slow" ran past its 2000 ms timeout' },
  })
  // Over HTTP the gateway waits for the host's answer however late, so the host's verdict is what is seen.
  const caller = await fetch(`http://${platform.http}/v1/call/slow`, {
    method: 'POST',
    body: '[]',
    headers: { 'x-osiris-timeout-ms': '500' },
  })
  t.equal(caller.status, 504)
  const { error } = (await caller.json()) as { error: { code: string; message: string } }
  t.equal(error.code, 'DEADLINE_EXCEEDED')
  t.match(error.message, /^function "slow" had not finished at the caller's deadline \(it ran \d+ ms\)$/)
})
