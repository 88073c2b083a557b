// The isolate executor over real V8 isolates. There is no controller here:
// code reaches the cache through executor.validate(), as it does at deploy,
// and a cache miss fails with NOT_FOUND.
import { OsirisError } from '@osiris/proto'
import t, { type Test } from 'tap'
import { CodeCache, hashCode } from '../src/code-cache.ts'
import type { InvokeParams, LogEntry } from '../src/executor.ts'
import { IsolateExecutor } from '../src/isolate-executor.ts'

interface Harness {
  executor: IsolateExecutor
  logs: LogEntry[]
  /** Pool size each time the executor reported a change. */
  poolSizes: number[]
  deploy(source: string, filename?: string): Promise<string>
  call(
    params: Partial<InvokeParams> & { functionName: string; codeHash: string },
  ): ReturnType<IsolateExecutor['invoke']>
}

async function harness(t: Test, maxInstances = 16): Promise<Harness> {
  const codeCache = new CodeCache(async (hash) => {
    throw new OsirisError('NOT_FOUND', `no code with hash ${hash} (no controller in this test)`)
  }, 1 << 20)
  const logs: LogEntry[] = []
  const poolSizes: number[] = []
  let self: IsolateExecutor | undefined
  const executor = new IsolateExecutor({
    poolTarget: 2,
    memoryLimitMb: 64,
    maxInstances,
    loadTimeoutMs: 1000,
    idleTtlMs: 300_000,
    codeCache,
    onLog: (entry) => logs.push(entry),
    onChange: () => {
      if (self) poolSizes.push(self.pool.size)
    },
  })
  self = executor
  t.teardown(() => executor.close(0))
  await executor.pool.filled()
  let calls = 0
  return {
    executor,
    logs,
    poolSizes,
    async deploy(source, filename = 'mod.js') {
      const { code } = await executor.validate(filename.endsWith('.ts') ? 'ts' : 'js', source, filename)
      return hashCode(code)
    },
    call(params) {
      return executor.invoke({
        callId: `call-${++calls}`,
        module: 'mod',
        version: 1,
        args: [],
        timeoutMs: 5000,
        ...params,
      })
    },
  }
}

const MATH = `
export function add(a, b) { return a + b }
export async function slowDouble(x) { await null; return x * 2 }
export function shape(obj, list) { return { keys: Object.keys(obj).sort(), total: list.reduce((s, n) => s + n, 0), nested: [obj, list] } }
export function nothing() {}
export function returnsNull() { return null }
`

t.test('sync and async functions, JSON arguments and results', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy(MATH)
  const sum = await h.call({ functionName: 'add', codeHash, args: ['2', '3'] })
  t.equal(sum.result, '5')
  t.equal(typeof sum.durationUs, 'number')
  t.equal((await h.call({ functionName: 'slowDouble', codeHash, args: ['21'] })).result, '42', 'a promise is awaited')
  const obj = { b: 1, a: { deep: [true, null, 'x'] } }
  const shaped = await h.call({ functionName: 'shape', codeHash, args: [JSON.stringify(obj), '[1, 2, 3.5]'] })
  t.same(JSON.parse(shaped.result), { keys: ['a', 'b'], total: 6.5, nested: [obj, [1, 2, 3.5]] })
  t.equal((await h.call({ functionName: 'nothing', codeHash })).result, 'null', 'undefined comes back as null')
  t.equal((await h.call({ functionName: 'returnsNull', codeHash })).result, 'null')
  t.equal((await h.call({ functionName: 'add', codeHash, args: ['"a"', '"b"'] })).result, '"ab"')
})

t.test('TypeScript modules run after validation', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy('export function len(s: string): number { return s.length }', 'len.ts')
  t.equal((await h.call({ functionName: 'len', codeHash, args: ['"hello"'] })).result, '5')
})

t.test('a function that throws is a FunctionError with the guest stack; the executor keeps serving', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy(
    'export function fail(m) {\n  return check(m)\n}\nfunction check(m) {\n  throw new TypeError("bad " + m)\n}\nexport function ok() { return "ok" }\nexport function throwsString() { throw "just a string" }',
    'mod.js',
  )
  const err = await h.call({ functionName: 'fail', codeHash, args: ['"input"'] }).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof OsirisError)
  const fnErr = err as OsirisError & { guest: { name: string; message: string; stack: string } }
  t.equal(fnErr.code, 'FUNCTION_ERROR')
  t.equal(fnErr.name, 'FunctionError')
  t.equal(fnErr.message, 'function "fail" threw TypeError: bad input')
  t.equal(fnErr.guest.name, 'TypeError')
  t.equal(fnErr.guest.message, 'bad input')
  t.match(fnErr.guest.stack, /^TypeError: bad input\n {4}at check \(mod\.js:5:9\)\n {4}at fail \(mod\.js:2:10\)/)
  t.notMatch(fnErr.guest.stack, /osiris:runtime/, 'no runtime frames')

  await t.rejects(h.call({ functionName: 'throwsString', codeHash }), {
    code: 'FUNCTION_ERROR',
    message: 'function "throwsString" threw Error: just a string',
    guest: { name: 'Error', message: 'just a string', stack: '' },
  })

  const after = await h.call({ functionName: 'ok', codeHash })
  t.equal(after.result, '"ok"')
  t.equal(after.coldStart, false, 'a throw does not cost the instance')
})

t.test('a result JSON cannot encode is RESULT_NOT_JSON', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy(
    'export function big() { return 10n }\nexport function circular() { const o = { a: 1 }; o.self = o; return o }\nexport function ok() { return 1 }',
  )
  await t.rejects(h.call({ functionName: 'big', codeHash }), {
    code: 'RESULT_NOT_JSON',
    message: /^function "big" returned a value that cannot be encoded as JSON: .*BigInt/,
  })
  await t.rejects(h.call({ functionName: 'circular', codeHash }), {
    code: 'RESULT_NOT_JSON',
    message: /^function "circular" returned a value that cannot be encoded as JSON: .*circular/i,
  })
  const after = await h.call({ functionName: 'ok', codeHash })
  t.equal(after.result, '1')
  t.equal(after.coldStart, false, 'the instance stays warm')
})

t.test('an unknown function name is NOT_FOUND', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy(MATH)
  await t.rejects(h.call({ functionName: 'missing', codeHash }), {
    code: 'NOT_FOUND',
    message: 'module "mod" v1 has no function "missing"',
  })
})

t.test('code the cache never saw fails with the fetcher error', async (t) => {
  const h = await harness(t)
  const unknown = hashCode('export function never() {}')
  await t.rejects(h.call({ functionName: 'never', codeHash: unknown, version: 9 }), {
    code: 'NOT_FOUND',
    message: `no code with hash ${unknown} (no controller in this test)`,
  })
  t.same(h.executor.status().instances, [], 'no instance was made')
  t.equal(h.executor.status().inFlight, 0)
})

t.test('a never-settling promise hits the timeout and the instance is disposed', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy(
    'export async function hang() { await new Promise(() => {}) }\nexport function ok() { return 1 }',
  )
  t.equal((await h.call({ functionName: 'ok', codeHash })).coldStart, true)
  t.same(h.executor.status().instances, [{ module: 'mod', version: 1, busy: 0, idle: 1 }])
  await t.rejects(h.call({ functionName: 'hang', codeHash, limits: { timeoutMs: 200 } }), {
    code: 'DEADLINE_EXCEEDED',
    message: 'function "hang" ran past its 200 ms timeout',
  })
  t.same(h.executor.status().instances, [], 'the timed-out instance is gone')
  const next = await h.call({ functionName: 'ok', codeHash })
  t.equal(next.result, '1')
  t.equal(next.coldStart, true, 'the next call starts a fresh instance')
})

t.test('a synchronous infinite loop hits the timeout', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy('export function spin() { for (;;) {} }\nexport function ok() { return 2 }')
  await t.rejects(h.call({ functionName: 'spin', codeHash, limits: { timeoutMs: 200 } }), {
    code: 'DEADLINE_EXCEEDED',
    message: 'function "spin" ran past its 200 ms timeout',
  })
  t.same(h.executor.status().instances, [])
  const next = await h.call({ functionName: 'ok', codeHash })
  t.equal(next.result, '2')
  t.equal(next.coldStart, true)
})

t.test('the first call takes a warm isolate from the pool; later calls reuse the instance', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy(MATH)
  t.equal(h.executor.pool.size, 2, 'the pool starts at its target')
  h.poolSizes.length = 0
  const first = await h.call({ functionName: 'add', codeHash, args: ['1', '1'] })
  t.equal(first.coldStart, true)
  t.ok(h.poolSizes.includes(1), 'the pool dropped to 1 when the call took an isolate')
  await h.executor.pool.filled()
  t.equal(h.executor.pool.size, 2, 'and refilled to its target')
  t.equal(h.executor.status().poolReady, 2)
  t.equal(h.executor.status().poolTarget, 2)

  h.poolSizes.length = 0
  const second = await h.call({ functionName: 'add', codeHash, args: ['2', '2'] })
  t.equal(second.coldStart, false, 'warm reuse')
  t.equal(second.result, '4')
  t.notOk(h.poolSizes.includes(1), 'a warm call takes nothing from the pool')
  t.same(h.executor.status().instances, [{ module: 'mod', version: 1, busy: 0, idle: 1 }])
})

t.test('instances keep their own state; two versions never share an instance', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy('let n = 0\nexport function next() { return ++n }')
  t.equal((await h.call({ functionName: 'next', codeHash, version: 1 })).result, '1')
  t.equal((await h.call({ functionName: 'next', codeHash, version: 1 })).result, '2', 'same instance, same globals')
  const v2 = await h.call({ functionName: 'next', codeHash, version: 2 })
  t.equal(v2.coldStart, true, 'a new version specializes its own instance, even with the same code')
  t.equal(v2.result, '1', 'and sees none of the old version state')
  t.equal((await h.call({ functionName: 'next', codeHash, version: 1 })).result, '3')
  t.same(h.executor.status().instances, [
    { module: 'mod', version: 1, busy: 0, idle: 1 },
    { module: 'mod', version: 2, busy: 0, idle: 1 },
  ])
})

t.test('evict drops the older versions of one module', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy('export function v() { return 1 }')
  for (const version of [1, 2, 3]) await h.call({ functionName: 'v', codeHash, version })
  await h.call({ functionName: 'v', codeHash, module: 'other', version: 4 })
  t.same(
    h.executor.status().instances.map((i) => `${i.module}@${i.version}`),
    ['mod@1', 'mod@2', 'mod@3', 'other@4'],
  )
  h.executor.evict('mod', 3)
  t.same(
    h.executor.status().instances.map((i) => `${i.module}@${i.version}`),
    ['mod@3', 'other@4'],
    'below version 3 of mod only',
  )
  t.equal((await h.call({ functionName: 'v', codeHash, version: 1 })).coldStart, true, 'an evicted version starts cold')
  t.equal((await h.call({ functionName: 'v', codeHash, version: 3 })).coldStart, false, 'the current one is still warm')
  h.executor.evict('mod', 0)
  t.same(
    h.executor.status().instances.map((i) => `${i.module}@${i.version}`),
    ['other@4'],
    '0 drops every version of the module',
  )
})

t.test('maxInstances caps the instances; when all are busy a new version is RESOURCE_EXHAUSTED', async (t) => {
  const h = await harness(t, 2)
  const codeHash = await h.deploy(
    'export function v() { return 1 }\nexport async function hang() { await new Promise(() => {}) }',
  )
  await h.call({ functionName: 'v', codeHash, version: 1 })
  await h.call({ functionName: 'v', codeHash, version: 2 })
  // v1 used again (within the same millisecond, likely): v2 is now the least recently used.
  await h.call({ functionName: 'v', codeHash, version: 1 })
  const third = await h.call({ functionName: 'v', codeHash, version: 3 })
  t.equal(third.result, '1')
  const versions = h.executor.status().instances.map((i) => i.version)
  t.same(versions.sort(), [1, 3], 'the least recently used instance (v2) was disposed to make room')

  // Fill both slots with busy calls, then ask for a third version.
  const hanging = [3, 4].map((version) =>
    h.call({ functionName: 'hang', codeHash, version, timeoutMs: 1000 }).then(
      () => undefined,
      (e: unknown) => e,
    ),
  )
  const deadline = Date.now() + 5000
  while (h.executor.status().instances.reduce((n, i) => n + i.busy, 0) < 2) {
    if (Date.now() > deadline) throw new Error('the hanging calls never became busy')
    await new Promise((resolve) => setImmediate(resolve))
  }
  await t.rejects(h.call({ functionName: 'v', codeHash, version: 5 }), {
    code: 'RESOURCE_EXHAUSTED',
    message: 'host is at its limit of 2 instances, all busy',
  })
  for (const outcome of await Promise.all(hanging)) t.match(outcome, { code: 'DEADLINE_EXCEEDED' })
  t.equal((await h.call({ functionName: 'v', codeHash, version: 5 })).result, '1', 'room again once they end')
})

t.test('cold starts begun together count against maxInstances while their isolates are made', async (t) => {
  const h = await harness(t, 2)
  const codeHash = await h.deploy('export async function hang() { await new Promise(() => {}) }')
  // Three cold starts at once; a non-default heap size makes each isolate on the spot, asynchronously.
  const outcomes = await Promise.all(
    [1, 2, 3].map((version) =>
      h.call({ functionName: 'hang', codeHash, version, timeoutMs: 500, limits: { memoryMb: 32 } }).then(
        () => 'answered',
        (e: OsirisError) => e.code,
      ),
    ),
  )
  t.same(outcomes.sort(), ['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED'], 'the third finds no room')
})

t.test('console output reaches onLog with the call it came from', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy(
    'export function chatty(x) { console.log("got", x, { a: 1 }); console.error("uh oh"); return x }',
    'chatty.js',
  )
  await h.call({ functionName: 'chatty', codeHash, module: 'chatty', version: 7, callId: 'call-abc', args: ['5'] })
  t.match(h.logs, [
    { level: 'info', line: 'got 5 { a: 1 }', module: 'chatty', version: 7, functionName: 'chatty', callId: 'call-abc' },
    { level: 'error', line: 'uh oh', module: 'chatty', version: 7, functionName: 'chatty', callId: 'call-abc' },
  ])
  t.equal(h.logs.length, 2)
  t.equal(typeof h.logs[0]?.timeMs, 'number')

  await h.call({ functionName: 'chatty', codeHash, module: 'chatty', version: 7, callId: 'call-def', args: ['6'] })
  t.equal(h.logs[2]?.callId, 'call-def', 'a warm instance logs under the current call')
  t.equal(h.logs[2]?.line, 'got 6 { a: 1 }')
})

t.test('close is idempotent and later calls are refused with CLOSED (not started)', async (t) => {
  const h = await harness(t)
  const codeHash = await h.deploy(MATH)
  await h.call({ functionName: 'add', codeHash, args: ['1', '2'] })
  await h.executor.close(1000)
  await h.executor.close(1000)
  t.equal(h.executor.pool.size, 0, 'the warm pool is emptied')
  t.same(h.executor.status().instances, [], 'every instance is disposed')
  await t.rejects(h.call({ functionName: 'add', codeHash, args: ['1', '2'] }), {
    code: 'CLOSED',
    message: 'this host is shutting down; the call did not start',
  })
})
