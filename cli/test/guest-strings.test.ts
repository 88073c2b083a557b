// What a function throws travels from its host to the controller and on to the
// caller in gRPC trailers. A thrown error within the runtime's own cut but
// written in 3-byte UTF-8 characters, or a Python exception with a
// 2,000,000-character message, used to push those trailers past HTTP/2's
// header limits and reset the connection the host shares with every other
// call. The host bounds each field in bytes; neighbours' calls in flight on
// the same host are unaffected, and the host process is the same.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GUEST_LIMITS } from '@osiris/proto'
import { connect, type FunctionError, type OsirisError } from '@osiris/sdk'
import t, { type Test } from 'tap'
import { startPlatform } from './helpers/platform.ts'

const TRUNCATED = ' … (truncated)'

const dir = mkdtempSync(join(tmpdir(), 'osiris-guest-strings-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const platform = await startPlatform(t, join(dir, 'data'))
const client = connect(platform.grpc)
t.teardown(() => client.close())
await client.deploy('export async function neighbour(n) { await new Promise((r) => setTimeout(r, 300)); return n }', {
  module: 'neighbour',
  runtime: 'js',
})
// At the runtime's own cut (name 200, message 8,192, stack 16,384 characters), in 3-byte characters.
await client.deploy(
  `export function wide() {
  const e = new Error('€'.repeat(8192))
  e.name = '€'.repeat(200)
  Object.defineProperty(e, 'stack', { value: '€'.repeat(16384) })
  throw e
}`,
  { module: 'wide', runtime: 'js' },
)
const [host] = await client.hosts()
const pid = host?.pid

/** Starts `n` neighbour calls (each 300 ms on the host) and resolves what each answered. */
function neighbours(n: number): Promise<unknown[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => client.callFunction('neighbour', i).catch((e: unknown) => e)))
}

async function hostile(t: Test, name: string, args: unknown[] = []): Promise<OsirisError> {
  const inFlight = neighbours(8)
  const error = (await client.callFunction(name, ...args).then(
    () => undefined,
    (e: unknown) => e,
  )) as OsirisError
  t.same(await inFlight, [0, 1, 2, 3, 4, 5, 6, 7], "neighbours' calls in flight meanwhile all answered")
  t.same(await neighbours(2), [0, 1], 'and later calls too')
  const [after] = await client.hosts()
  t.equal(after?.pid, pid, 'the host process is the same')
  return error
}

const bytes = (s: string): number => Buffer.byteLength(s)

t.test('an error in 3-byte characters at the runtime cut is FUNCTION_ERROR, bounded in bytes', async (t) => {
  const error = await hostile(t, 'wide')
  t.equal(error.code, 'FUNCTION_ERROR')
  const { guest } = error as FunctionError
  t.ok(guest.name.endsWith(TRUNCATED) && bytes(guest.name) <= GUEST_LIMITS.name, `name: ${bytes(guest.name)} bytes`)
  t.ok(guest.message.endsWith(TRUNCATED) && bytes(guest.message) <= GUEST_LIMITS.message, 'message cut')
  t.ok(guest.stack.endsWith(TRUNCATED) && bytes(guest.stack) <= GUEST_LIMITS.stack, 'stack cut')
  t.match(guest.message, /^€+ … \(truncated\)$/, 'cut on a character boundary')
  t.ok(bytes(error.message) <= 1024, `the status message is bounded too (${bytes(error.message)} bytes)`)
  t.match(error.message, /^function "wide" threw €+/)
})

t.test('a Python exception with a 2,000,000-character message is FUNCTION_ERROR, bounded in bytes', async (t) => {
  await client.deploy('def huge():\n    raise ValueError("x" * 2_000_000)\n', { module: 'huge', runtime: 'python' })
  const error = await hostile(t, 'huge')
  t.equal(error.code, 'FUNCTION_ERROR')
  const { guest } = error as FunctionError
  t.equal(guest.name, 'ValueError')
  t.ok(guest.message.endsWith(TRUNCATED) && bytes(guest.message) <= GUEST_LIMITS.message, 'message cut')
  t.match(error.message, /^function "huge" raised ValueError: x+ … \(truncated\)$/)
})
