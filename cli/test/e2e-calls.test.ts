// End to end over real processes and real gRPC: `osiris start` as a child
// process, the SDK, a plain gRPC client built from the .proto alone, and the
// HTTP gateway. Every bad input asserts the exact code and a useful message,
// then checks the platform still serves.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { connect, FunctionError, OsirisError } from '@osiris/sdk'
import t from 'tap'
import { startPlatform } from './helpers/platform.ts'

const MATH_TS = `
export function addNumbers(a: number, b: number): number { return a + b }
export async function greet(name: string): Promise<string> { return \`hello \${name}\` }
interface Point { x: number; y: number }
export const centroid = (points: Point[]): Point => {
  const n = points.length
  return { x: points.reduce((s, p) => s + p.x, 0) / n, y: points.reduce((s, p) => s + p.y, 0) / n }
}
export function sortDesc(list: number[], ...more: number[]) { return [...list, ...more].sort((a, b) => b - a) }
export function withDefault(a: number, b = 10) { return a * b }
`

const TOOLS_JS = `
function double(x) { return x * 2 }
async function later(value) { await null; return { value, tags: ['a', 'b'], nested: { ok: true } } }
function fail(message) { const e = new RangeError(message); throw e }
function bigint() { return 10n }
function circular() { const o = {}; o.self = o; return o }
function nothing() {}
`

const dataDir = mkdtempSync(join(tmpdir(), 'osiris-e2e-'))
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
const platform = await startPlatform(t, dataDir)
const osiris = connect(platform.grpc)
t.teardown(() => osiris.close())

async function rejection(promise: Promise<unknown>): Promise<OsirisError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof OsirisError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

async function stillServes(tt: Pick<typeof t, 'equal'>): Promise<void> {
  tt.equal(await osiris.callFunction('addNumbers', 1, 1), 2, 'platform still serves')
}

t.test('deploy registers every exported function with its parameters', async (t) => {
  const ts = await osiris.deploy(MATH_TS, { module: 'math', runtime: 'ts' })
  t.equal(ts.module, 'math')
  t.same(
    ts.functions.map((f) => [f.name, f.params.map((p) => `${p.rest ? '...' : ''}${p.name}${p.optional ? '?' : ''}`)]),
    [
      ['addNumbers', ['a', 'b']],
      ['centroid', ['points']],
      ['greet', ['name']],
      ['sortDesc', ['list', '...more']],
      ['withDefault', ['a', 'b?']],
    ],
  )
  const js = await osiris.deploy(TOOLS_JS, { module: 'tools', runtime: 'js' })
  t.same(js.functions.map((f) => f.name).sort(), ['bigint', 'circular', 'double', 'fail', 'later', 'nothing'])
  t.ok(js.version > ts.version, 'versions increase')
  const listed = await osiris.list()
  t.equal(listed.length, 11)
  t.equal((await osiris.get('greet')).runtime, 'ts')
})

t.test('calls JS and TS functions, sync and async, with objects and arrays', async (t) => {
  t.equal(await osiris.callFunction('addNumbers', 3, 5), 8)
  t.equal(await osiris.callFunction('greet', 'ada'), 'hello ada')
  t.same(
    await osiris.callFunction('centroid', [
      { x: 0, y: 0 },
      { x: 2, y: 4 },
    ]),
    { x: 1, y: 2 },
  )
  t.same(await osiris.callFunction('sortDesc', [3, 1], 7, 2), [7, 3, 2, 1])
  t.equal(await osiris.callFunction('withDefault', 4), 40)
  t.equal(await osiris.callFunction('double', 21), 42)
  t.same(await osiris.callFunction('later', 'x'), { value: 'x', tags: ['a', 'b'], nested: { ok: true } })
  t.equal(await osiris.callFunction('nothing'), null)
})

t.test('the first call of a fresh deployment is a cold start from the pool; the next is warm', async (t) => {
  await osiris.deploy('export function fresh(n) { return n + 1 }', { module: 'fresh', runtime: 'js' })
  const first = await osiris.call('fresh', [1])
  t.equal(first.value, 2)
  t.equal(first.coldStart, true)
  t.ok(first.hostId.startsWith('host-'))
  t.ok(first.hostDurationUs > 0)
  const second = await osiris.call('fresh', [2])
  t.equal(second.coldStart, false)
  t.equal(second.hostId, first.hostId)
})

t.test('each answer says where its time went', async (t) => {
  await osiris.deploy('export function timed(ms) { return new Promise((r) => setTimeout(() => r(ms), ms)) }', {
    module: 'timed',
    runtime: 'js',
  })
  const cold = await osiris.call('timed', [30])
  t.equal(cold.coldStart, true)
  t.ok(cold.startUs > 0, 'a cold start specializes an instance')
  t.equal(cold.codeFetchUs >= 0 && cold.codeFetchUs < cold.hostDurationUs, true, 'code fetch within the host time')
  // Isolate timers fire on the host's millisecond clock, so a 30 ms timer may come a little early here.
  t.ok(cold.executionUs >= 25_000, `execution covers the function's 30 ms timer (${cold.executionUs} µs)`)
  t.ok(cold.codeFetchUs + cold.startUs + cold.executionUs <= cold.hostDurationUs, 'the parts fit in the host time')
  t.ok(cold.queuedUs + cold.routeUs + cold.hostDurationUs <= cold.totalUs, 'queue, route and host fit in the total')
  const warm = await osiris.call('timed', [0])
  t.equal(warm.coldStart, false)
  t.equal(warm.startUs, 0, 'a warm call starts nothing')
  t.equal(warm.codeFetchUs, 0, 'nor fetches code')
  t.ok(warm.executionUs > 0 && warm.executionUs <= warm.hostDurationUs)
})

t.test('redeploy makes a new version; calls go to it; dropped names are removed', async (t) => {
  const v1 = await osiris.deploy('export function answer() { return 1 }\nexport function gone() {}', {
    module: 'versions',
    runtime: 'js',
  })
  t.equal((await osiris.call('answer', [])).version, v1.version)
  const v2 = await osiris.deploy('export function answer() { return 2 }', { module: 'versions', runtime: 'js' })
  t.ok(v2.version > v1.version)
  t.same(v2.removed, ['gone'])
  const after = await osiris.call('answer', [])
  t.equal(after.value, 2)
  t.equal(after.version, v2.version)
  const err = await rejection(osiris.callFunction('gone'))
  t.equal(err.code, 'NOT_FOUND')
  // A re-sent deploy of the same source (say, a retry after a lost answer) is the same version, not a new one.
  const again = await osiris.deploy('export function answer() { return 2 }', { module: 'versions', runtime: 'js' })
  t.equal(again.version, v2.version, 'identical source: same version')
  t.same(again.removed, [])
  t.same(
    again.functions.map((f) => f.name),
    ['answer'],
  )
  const limited = await osiris.deploy('export function answer() { return 2 }', {
    module: 'versions',
    runtime: 'js',
    limits: { timeoutMs: 1000 },
  })
  t.ok(limited.version > v2.version, 'other limits: a new version')
})

t.test("rm makes calls NOT_FOUND and leaves the module's other functions", async (t) => {
  await osiris.deploy('export function a() { return "a" }\nexport function b() { return "b" }', {
    module: 'pair',
    runtime: 'js',
  })
  const removed = await osiris.remove('a')
  t.equal(removed.name, 'a')
  t.equal(removed.module, 'pair')
  const err = await rejection(osiris.callFunction('a'))
  t.equal(err.code, 'NOT_FOUND')
  t.equal(err.message, 'function "a" is not deployed')
  t.equal(await osiris.callFunction('b'), 'b')
  t.equal((await rejection(osiris.remove('a'))).code, 'NOT_FOUND')
})

t.test('a plain gRPC client built from the .proto alone reads result = "8"', async (t) => {
  const protoDir = fileURLToPath(new URL('../../proto/', import.meta.url))
  const definition = protoLoader.loadSync('osiris/v1/osiris.proto', { includeDirs: [protoDir], keepCase: true })
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    osiris: { v1: { OsirisService: grpc.ServiceClientConstructor } }
  }
  const client = new pkg.osiris.v1.OsirisService(platform.grpc, grpc.credentials.createInsecure())
  t.teardown(() => client.close())
  const invoke = (request: object): Promise<{ err: grpc.ServiceError | null; res: { result?: string } | undefined }> =>
    new Promise((resolve) => {
      const method = client.CallFunction as (
        r: object,
        cb: (e: grpc.ServiceError | null, r?: { result?: string }) => void,
      ) => void
      method.call(client, request, (err, res) => resolve({ err, res }))
    })
  const ok = await invoke({ function_name: 'addNumbers', args: ['3', '5'] })
  t.equal(ok.err, null)
  t.equal(ok.res?.result, '8')
  const bad = await invoke({ function_name: 'addNumbers', args: ['{not json', '5'] })
  t.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT)
  t.match(bad.err?.details, /^argument 1 of "addNumbers" is not JSON/)
  const missing = await invoke({ function_name: 'nope', args: [] })
  t.equal(missing.err?.code, grpc.status.NOT_FOUND)
  t.equal(missing.err?.details, 'function "nope" is not deployed')
})

t.test('bad input: exact codes and messages, and the platform keeps serving', async (t) => {
  const unknown = await rejection(osiris.callFunction('doesNotExist', 1))
  t.equal(unknown.code, 'NOT_FOUND')
  t.equal(unknown.message, 'function "doesNotExist" is not deployed')

  const arity = await rejection(osiris.callFunction('addNumbers', 1, 2, 3))
  t.equal(arity.code, 'INVALID_ARGUMENT')
  t.equal(arity.message, 'function "addNumbers" takes 2 arguments, got 3')
  const few = await rejection(osiris.callFunction('withDefault'))
  t.equal(few.message, 'function "withDefault" takes 1 to 2 arguments, got 0')

  const syntax = await rejection(
    osiris.deploy('export function broken(a) {\n  return a +\n}\n', { module: 'broken', runtime: 'js' }),
  )
  t.equal(syntax.code, 'COMPILE_ERROR')
  t.match(syntax.message, /^broken\.js does not compile: Unexpected token \(line 3, column 1\)$/)
  const tsSyntax = await rejection(
    osiris.deploy('export function broken(a: number) {\n  let x: = 3\n}\n', { module: 'broken', runtime: 'ts' }),
  )
  t.equal(tsSyntax.code, 'COMPILE_ERROR')
  t.match(tsSyntax.message, /\(line 2, column 10\)$/)
  await t.rejects(osiris.get('broken'), { code: 'NOT_FOUND' }, 'nothing registered by a failed deploy')

  const empty = await rejection(osiris.deploy('   \n', { module: 'empty', runtime: 'js' }))
  t.equal(empty.code, 'INVALID_ARGUMENT')
  t.equal(empty.message, 'source of module "empty" is empty')
  const huge = await rejection(
    osiris.deploy(`export function big() { return 1 }\n//${'x'.repeat(1024 * 1024)}`, {
      module: 'huge',
      runtime: 'js',
    }),
  )
  t.equal(huge.code, 'PAYLOAD_TOO_LARGE')
  t.match(huge.message, /^source of module "huge" is \d+ bytes; the limit is 1048576$/)
  const noFunctions = await rejection(osiris.deploy('export const x = 1', { module: 'nofn', runtime: 'js' }))
  t.equal(noFunctions.code, 'INVALID_ARGUMENT')
  t.equal(noFunctions.message, 'nofn.js defines no functions to deploy')
  const runtime = await rejection(osiris.deploy('def f(): pass', { module: 'py', runtime: 'cobol' }))
  t.equal(runtime.code, 'UNAVAILABLE')
  t.equal(runtime.message, 'no host can run runtime "cobol": none of the 1 connected hosts offers it')
  const clash = await rejection(osiris.deploy('export function greet() {}', { module: 'other', runtime: 'js' }))
  t.equal(clash.code, 'INVALID_ARGUMENT')
  t.match(clash.message, /function "greet" is already deployed by module "math"/)

  const threw = await rejection(osiris.callFunction('fail', 'out of range'))
  t.ok(threw instanceof FunctionError)
  t.equal(threw.code, 'FUNCTION_ERROR')
  t.equal(threw.message, 'function "fail" threw RangeError: out of range')
  if (threw instanceof FunctionError) {
    t.equal(threw.guest.name, 'RangeError')
    t.equal(threw.guest.message, 'out of range')
    t.match(threw.guest.stack, /at fail \(tools\.js:4:\d+\)/)
    t.notMatch(threw.guest.stack, /osiris:runtime/)
  }

  const big = await rejection(osiris.callFunction('bigint'))
  t.equal(big.code, 'RESULT_NOT_JSON')
  t.match(big.message, /^function "bigint" returned a value that cannot be encoded as JSON: .*BigInt/)
  const loop = await rejection(osiris.callFunction('circular'))
  t.equal(loop.code, 'RESULT_NOT_JSON')
  t.match(loop.message, /circular/i)

  const local = await rejection(osiris.callFunction('double', 1n))
  t.equal(local.code, 'INVALID_ARGUMENT')
  t.match(local.message, /^argument 1 of "double" cannot be encoded as JSON/)

  await stillServes(t)
})

t.test('per-call deadline and AbortSignal', async (t) => {
  await osiris.deploy('export async function spin() { await new Promise(() => {}) }', { module: 'spin', runtime: 'js' })
  const late = await rejection(osiris.call('spin', [], { timeoutMs: 300 }))
  t.equal(late.code, 'DEADLINE_EXCEEDED')
  const controller = new AbortController()
  const pending = osiris.call('spin', [], { signal: controller.signal })
  controller.abort()
  const aborted = await rejection(pending)
  t.equal(aborted.code, 'CANCELLED')
  await stillServes(t)
})

t.test("HTTP gateway: POST /v1/call/{name}, errors as JSON with the table's status", async (t) => {
  const base = `http://${platform.http}`
  const ok = await fetch(`${base}/v1/call/greet`, { method: 'POST', body: '["ada"]' })
  t.equal(ok.status, 200)
  t.equal(await ok.text(), '"hello ada"')
  t.match(ok.headers.get('x-osiris-version'), /^\d+$/)
  const parts = ['queue', 'route', 'fetch', 'start', 'exec', 'host', 'total'].map((n) => `${n};dur=[0-9.]+`)
  t.match(ok.headers.get('server-timing'), new RegExp(`^${parts.join(', ')}$`), 'Server-Timing names every part')
  const sum = await fetch(`${base}/v1/call/centroid`, { method: 'POST', body: JSON.stringify([[{ x: 1, y: 1 }]]) })
  t.same(await sum.json(), { x: 1, y: 1 })

  const cases: Array<[string, string, number, string, RegExp]> = [
    ['nope', '[]', 404, 'NOT_FOUND', /^function "nope" is not deployed$/],
    ['greet', '{"name":"ada"}', 400, 'INVALID_ARGUMENT', /^body must be a JSON array of arguments$/],
    ['greet', '[oops', 400, 'INVALID_ARGUMENT', /^body is not JSON/],
    ['addNumbers', '[1]', 400, 'INVALID_ARGUMENT', /^function "addNumbers" takes 2 arguments, got 1$/],
    ['fail', '["why"]', 500, 'FUNCTION_ERROR', /^function "fail" threw RangeError: why$/],
  ]
  for (const [name, body, status, code, message] of cases) {
    const res = await fetch(`${base}/v1/call/${name}`, { method: 'POST', body })
    t.equal(res.status, status, `${name} ${body} → ${status}`)
    const json = (await res.json()) as { error: { code: string; message: string; guest?: { name: string } } }
    t.equal(json.error.code, code)
    t.match(json.error.message, message)
    if (code === 'FUNCTION_ERROR') t.equal(json.error.guest?.name, 'RangeError')
  }
  const large = await fetch(`${base}/v1/call/greet`, {
    method: 'POST',
    body: JSON.stringify(['x'.repeat(1100 * 1024)]),
  })
  t.equal(large.status, 413)
  t.equal(((await large.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE')

  const health = await fetch(`${base}/healthz`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'ok' })
  const list = (await (await fetch(`${base}/v1/functions`)).json()) as { functions: Array<{ name: string }> }
  t.ok(list.functions.some((f) => f.name === 'greet'))
  const missingRoute = await fetch(`${base}/v2/other`)
  t.equal(missingRoute.status, 404)
  await stillServes(t)
})

t.test('grpc.health.v1 answers SERVING on the controller', async (t) => {
  const { Health } = await import('@osiris/proto')
  const client = new Health(platform.grpc, grpc.credentials.createInsecure())
  t.teardown(() => client.close())
  const status = await new Promise<string | undefined>((resolve, reject) =>
    client.Check({ service: 'osiris.v1.OsirisService' }, new grpc.Metadata(), {}, (err, res) =>
      err ? reject(err) : resolve(res?.status),
    ),
  )
  t.equal(status, 'SERVING')
})
