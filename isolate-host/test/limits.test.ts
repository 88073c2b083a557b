// Per-function limits enforced by the host: wall clock (sync and async),
// CPU time, memory, result size and shape, console output, timers.
import { defaultLimits, LIMIT_BOUNDS, OsirisError, resolveLimits } from '@osiris/proto'
import t from 'tap'
import { failure, harness, until, value } from './adversarial/harness.ts'

t.test('resolveLimits: defaults, overrides, and refusals naming the limit', async (t) => {
  const defaults = defaultLimits({ memoryMb: 64 })
  t.same(defaults, {
    timeoutMs: 30_000,
    cpuMs: 10_000,
    memoryMb: 64,
    maxResultBytes: 1024 * 1024,
    maxResultDepth: 128,
    maxLogBytes: 64 * 1024,
    maxTimers: 1000,
  })
  t.ok(Object.isFrozen(defaults))
  t.same(resolveLimits({ cpuMs: 50, memoryMb: 16 }, defaults), { ...defaults, cpuMs: 50, memoryMb: 16 })
  t.same(resolveLimits(undefined, defaults), defaults)
  t.same(resolveLimits(null, defaults), defaults)
  t.same(
    resolveLimits({ timeoutMs: 0, cpuMs: 0, memoryMb: 0, maxLogBytes: 0 }, defaults),
    { ...defaults, maxLogBytes: 0 },
    '0 is "the default" where 0 is not allowed (proto3), and 0 where it is',
  )
  t.throws(() => resolveLimits({ memoryMb: 4096 }, defaults), {
    code: 'INVALID_ARGUMENT',
    message: 'limit memoryMb must be an integer from 8 to 1024, got 4096',
  })
  t.throws(() => resolveLimits({ timeoutMs: 1.5 }, defaults), {
    message: `limit timeoutMs must be an integer from 1 to ${LIMIT_BOUNDS.timeoutMs.max}, got 1.5`,
  })
  t.throws(() => resolveLimits({ cpuMs: '9' as unknown as number }, defaults), {
    message: 'limit cpuMs must be an integer from 1 to 300000, got "9"',
  })
})

const HANG = `
export function spin() { for (;;) {} }
export async function never() { await new Promise(() => {}) }
export async function storm() { for (;;) await null }
export async function pending() { await new Promise((resolve) => setTimeout(resolve, 60_000)) }
export async function timerLoop() { await new Promise(() => setTimeout(() => { for (;;) {} }, 1)) }
export async function cpuAcrossTimers() {
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1))
    const end = Date.now(); let x = 0; while (x < 3e6) x++
  }
  return 'finished'
}
export function ok() { return 'ok' }
`

t.test(
  'the wall-clock limit holds for sync loops, never-settling promises, microtask storms and pending timers',
  async (t) => {
    const h = await harness(t)
    const mod = await h.deploy(HANG)
    for (const name of ['spin', 'never', 'storm', 'pending', 'timerLoop']) {
      const err = await failure(mod.call(name, { timeoutMs: 150 }))
      t.equal(err.code, 'DEADLINE_EXCEEDED', name)
      t.equal(err.message, `function "${name}" ran past its 150 ms timeout`)
      t.same(h.executor.status().instances, [], `${name}: the instance is disposed`)
    }
    t.equal(await value(mod.call('ok')), 'ok', 'the executor still serves')
  },
)

t.test("the function's own timeout applies when shorter than the caller's, and is reported as set", async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(HANG)
  const err = await failure(mod.call('never', { callerTimeoutMs: 5000, limits: { timeoutMs: 100 } }))
  t.equal(err.code, 'DEADLINE_EXCEEDED')
  t.equal(err.message, 'function "never" ran past its 100 ms timeout')
  const spin = await failure(mod.call('spin', { callerTimeoutMs: 100, limits: { timeoutMs: 100 } }))
  t.equal(
    spin.message,
    'function "spin" ran past its 100 ms timeout',
    'a caller deadline no sooner: the function limit',
  )
})

t.test("the caller's deadline, when sooner, is reported as the caller's, not as the function's limit", async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(HANG)
  for (const name of ['never', 'spin']) {
    const err = await failure(mod.call(name, { callerTimeoutMs: 120, limits: { timeoutMs: 2000 } }))
    t.equal(err.code, 'DEADLINE_EXCEEDED', name)
    t.match(
      err.message,
      new RegExp(`^function "${name}" had not finished at the caller's deadline \\(it ran \\d+ ms\\)$`),
    )
    t.notMatch(err.message, /2000/, 'not the function limit')
  }
})

t.test('the CPU limit ends a call that computes too long, sync or spread over timers', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(HANG)
  const sync = await failure(mod.call('spin', { timeoutMs: 5000, limits: { cpuMs: 100 } }))
  t.equal(sync.code, 'DEADLINE_EXCEEDED')
  t.equal(sync.message, 'function "spin" used more than 100 ms of CPU time')
  const spread = await failure(mod.call('cpuAcrossTimers', { timeoutMs: 20_000, limits: { cpuMs: 100 } }))
  t.equal(spread.code, 'DEADLINE_EXCEEDED')
  t.equal(spread.message, 'function "cpuAcrossTimers" used more than 100 ms of CPU time')
  t.same(h.executor.status().instances, [])
  t.equal(await value(mod.call('ok', { limits: { cpuMs: 100 } })), 'ok')
})

t.test(
  'memory: heap growth past the limit is RESOURCE_EXHAUSTED, the instance is disposed and never reused',
  async (t) => {
    const h = await harness(t)
    const mod = await h.deploy(`
let calls = 0
export function grow(mb) { const keep = []; for (let i = 0; i < mb * 16; i++) keep.push(new Array(8192).fill(i)); return keep.length }
export function count() { return ++calls }
`)
    t.equal(await value(mod.call('count')), 1)
    const err = await failure(mod.call('grow', { args: [1000], timeoutMs: 30_000 }))
    t.equal(err.code, 'RESOURCE_EXHAUSTED')
    t.equal(err.message, 'function "grow" ran past its 64 MiB memory limit and was stopped')
    t.same(h.executor.status().instances, [])
    const next = await mod.call('count')
    t.equal(next.result, '1', 'a fresh instance: the old one was not reused')
    t.equal(next.coldStart, true)
  },
)

t.test('a per-function memory limit gets an isolate of its own size', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(
    'export function grow(mb) { const keep = []; for (let i = 0; i < mb * 16; i++) keep.push(new Array(8192).fill(i)); return keep.length }',
  )
  t.equal(await value(mod.call('grow', { args: [24] })), 384, '24 MiB fits the default 64 MiB')
  // isolated-vm's limit is checked after full GCs and can be overshot 2-3x: ask for far more than 16 MiB.
  const err = await failure(mod.call('grow', { args: [100], limits: { memoryMb: 16 }, timeoutMs: 30_000 }))
  t.equal(err.code, 'RESOURCE_EXHAUSTED')
  t.equal(err.message, 'function "grow" ran past its 16 MiB memory limit and was stopped')
  const bigger = await mod.call('grow', { args: [100], limits: { memoryMb: 256 }, timeoutMs: 30_000 })
  t.equal(bigger.result, '1600', 'and a larger limit lets more through')
  t.equal(bigger.coldStart, true, 'an instance of another size is its own instance')
  t.same(
    h.executor.status().instances.map((i) => i.idle),
    [2],
    'the 64 MiB and 256 MiB instances of the version are both warm',
  )
})

t.test('result size, depth and cycles are refused with clear errors', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function text(n, ch) { return ch.repeat(n) }
export function nested(depth) { let v = 0; for (let i = 0; i < depth; i++) v = [v]; return v }
export function cycle() { const a = { b: {} }; a.b.a = a; return a }
export function ok() { return 'ok' }
`)
  const limits = { maxResultBytes: 1000 }
  t.equal((await mod.call('text', { args: [998, 'x'], limits })).result.length, 1000, 'exactly at the limit')
  const big = await failure(mod.call('text', { args: [999, 'x'], limits }))
  t.equal(big.code, 'PAYLOAD_TOO_LARGE')
  t.equal(big.message, 'function "text" returned more than its limit of 1000 bytes of JSON')
  t.equal((await mod.call('text', { args: [499, 'é'], limits })).result.length, 501, '1000 bytes of UTF-8')
  const wide = await failure(mod.call('text', { args: [500, 'é'], limits }))
  t.equal(wide.code, 'PAYLOAD_TOO_LARGE', 'the limit counts UTF-8 bytes, not characters')
  const deep = await failure(mod.call('nested', { args: [200] }))
  t.equal(deep.code, 'RESULT_NOT_JSON')
  t.equal(
    deep.message,
    'function "nested" returned a value that cannot be encoded as JSON: it nests deeper than 128 levels',
  )
  const deeper = await failure(mod.call('nested', { args: [1_000_000] }))
  t.equal(
    deeper.message,
    'function "nested" returned a value that cannot be encoded as JSON: it nests deeper than 128 levels',
  )
  t.equal((await mod.call('nested', { args: [128] })).result.length, 257, '128 levels pass')
  const cyc = await failure(mod.call('cycle'))
  t.equal(cyc.code, 'RESULT_NOT_JSON')
  t.equal(
    cyc.message,
    'function "cycle" returned a value that cannot be encoded as JSON: result.b.a is a circular reference to an object that contains it',
  )
  t.equal(await value(mod.call('ok')), 'ok')
})

t.test('console output is bounded per call: a flood is truncated with one marker line', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function flood(lines, width) { const line = 'x'.repeat(width); for (let i = 0; i < lines; i++) console.log(line); return lines }
`)
  await mod.call('flood', { args: [100_000, 100], limits: { maxLogBytes: 1000 }, callId: 'flood-1' })
  const lines = h.logs.filter((l) => l.callId === 'flood-1')
  t.equal(lines.at(-1)?.line, '[osiris] console output truncated: more than 1000 bytes in this call')
  t.equal(lines.at(-1)?.level, 'warn')
  const bytes = lines.slice(0, -1).reduce((sum, l) => sum + Buffer.byteLength(l.line) + 1, 0)
  t.ok(bytes <= 1000, `at most the budget was written (${bytes} bytes)`)
  t.equal(lines.length, 11, '9 whole lines, the cut tenth, the marker')
  await mod.call('flood', { args: [3, 10], limits: { maxLogBytes: 1000 }, callId: 'flood-2' })
  t.equal(h.logs.filter((l) => l.callId === 'flood-2').length, 3, 'the next call has its own budget')
})

t.test('timers left running when a call ends are cancelled', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function leave() { setInterval(() => console.log('still here'), 1); setTimeout(() => console.log('late'), 5); return 'left' }
export async function wait(ms) { await new Promise((resolve) => setTimeout(resolve, ms)); return 'waited' }
export function many(n) { for (let i = 0; i < n; i++) setTimeout(() => {}, 1000); return n }
setTimeout(() => console.log('top-level timer'), 0)
`)
  t.equal(await value(mod.call('leave', { callId: 'leave' })), 'left')
  t.equal(
    await value(mod.call('wait', { args: [50], callId: 'wait' })),
    'waited',
    'the same instance serves the next call',
  )
  t.same(
    h.logs.map((l) => l.line),
    [],
    'no timer of the first call (or of top-level code) ran, during the second call or since',
  )
  t.equal(await value(mod.call('many', { args: [1000] })), 1000)
  const tooMany = await failure(mod.call('many', { args: [1001] }))
  t.equal(tooMany.code, 'FUNCTION_ERROR')
  t.equal(tooMany.message, 'function "many" threw RangeError: too many pending timers: a call may have at most 1000')
  t.ok(await until(() => h.executor.status().inFlight === 0))
})

t.test('an OsirisError is what every limit failure is', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(HANG)
  const err = await failure(mod.call('spin', { timeoutMs: 50 }))
  t.ok(err instanceof OsirisError)
})
