// One conformance suite for every Executor (the isolate executor and the
// container executor): the same calls, async functions, errors, limits and
// idle disposal, each with the subject's own language for the sources.
import type { Executor, InvokeParams, InvokeResult } from '@osiris/isolate-host'
import { OsirisError } from '@osiris/proto'
import type { Test } from 'tap'
import { eventually } from './engine.ts'

export interface Sources {
  /**
   * add(a, b), echo(x), later(x) (async: x + "!"), fail() (raises errorName "nope"),
   * spin() (never returns), hog() (allocates without end), big(n) (a string of n bytes).
   */
  module: string
  errorName: string
  /** Does not compile; the error is on `brokenLine`. */
  broken: string
  brokenLine: number
  extension: string
  /** The same functions, but add(a, b) returns the string "poisoned": another tenant's code. */
  poison: string
}

export interface Subject {
  name: string
  runtime: string
  sources: Sources
  /** A fresh executor (its teardown registered on `t`), fully ready. */
  make(t: Test, options: { idleTtlMs: number }): Promise<Executor>
}

function hashOf(code: string): Promise<string> {
  return crypto.subtle.digest('SHA-256', new TextEncoder().encode(code)).then((d) => Buffer.from(d).toString('hex'))
}

async function deployed(t: Test, subject: Subject, idleTtlMs = 300_000) {
  const executor = await subject.make(t, { idleTtlMs })
  const filename = `conf${subject.sources.extension}`
  const validated = await executor.validate(subject.runtime, subject.sources.module, filename)
  const codeHash = await hashOf(validated.code)
  let n = 0
  const call = (functionName: string, args: string[], extra: Partial<InvokeParams> = {}): Promise<InvokeResult> =>
    executor.invoke({
      callId: `call-${++n}`,
      functionName,
      module: 'conf',
      version: 1,
      codeHash,
      args,
      timeoutMs: 10_000,
      ...extra,
      runtime: subject.runtime,
    })
  return { executor, validated, call }
}

async function rejectsWith(t: Test, promise: Promise<unknown>, code: string, message: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(error instanceof OsirisError, `rejects with an OsirisError (got ${String(error)})`)
  if (!(error instanceof OsirisError)) return undefined
  t.equal(error.code, code, `code ${code}: ${error.message}`)
  t.match(error.message, message)
  return error
}

export function conformance(t: Test, subject: Subject): void {
  t.test(`${subject.name}: deploy reports each function and its parameters`, async (t) => {
    const { validated } = await deployed(t, subject)
    const byName = new Map(validated.functions.map((f) => [f.name, f.params.map((p) => p.name)]))
    t.same(byName.get('add'), ['a', 'b'])
    t.same(byName.get('echo'), ['x'])
    t.ok(byName.has('later') && byName.has('fail') && byName.has('spin'))
  })

  t.test(`${subject.name}: calls, cold then warm, JSON round trip`, async (t) => {
    const { call } = await deployed(t, subject)
    const first = await call('add', ['3', '5'])
    t.equal(first.result, '8')
    t.equal(first.coldStart, true, 'the first call specializes an instance')
    const second = await call('add', ['40', '2'])
    t.equal(second.result, '42')
    t.equal(second.coldStart, false, 'the second call reuses the warm instance')
    const value = { list: [1, 'two', null, true, 2.5], nested: { deep: ['x'] }, empty: {} }
    t.same(JSON.parse((await call('echo', [JSON.stringify(value)])).result), value)
  })

  t.test(`${subject.name}: async functions are awaited`, async (t) => {
    const { call } = await deployed(t, subject)
    t.equal((await call('later', ['"ada"'])).result, '"ada!"')
  })

  t.test(`${subject.name}: a raised error is FUNCTION_ERROR with the guest's name, message and stack`, async (t) => {
    const { call } = await deployed(t, subject)
    const error = await rejectsWith(t, call('fail', []), 'FUNCTION_ERROR', /nope/)
    const guest = (error as { guest?: { name: string; message: string; stack: string } } | undefined)?.guest
    t.equal(guest?.name, subject.sources.errorName)
    t.equal(guest?.message, 'nope')
    t.match(guest?.stack ?? '', /fail/, 'the stack names the function')
    t.equal((await call('add', ['1', '2'])).result, '3', 'the instance keeps serving')
  })

  t.test(`${subject.name}: a function the module lacks is NOT_FOUND`, async (t) => {
    const { call } = await deployed(t, subject)
    await rejectsWith(t, call('nothere', []), 'NOT_FOUND', /no function "nothere"/)
  })

  t.test(`${subject.name}: source that does not compile is COMPILE_ERROR with its line`, async (t) => {
    const executor = await subject.make(t, { idleTtlMs: 300_000 })
    const filename = `broken${subject.sources.extension}`
    await rejectsWith(
      t,
      executor.validate(subject.runtime, subject.sources.broken, filename),
      'COMPILE_ERROR',
      new RegExp(`${filename.replace('.', '\\.')}.*line ${subject.sources.brokenLine}\\b`),
    )
  })

  t.test(`${subject.name}: the wall-clock limit ends a call that never returns`, async (t) => {
    const { call, executor } = await deployed(t, subject)
    await rejectsWith(t, call('spin', [], { timeoutMs: 800 }), 'DEADLINE_EXCEEDED', /spin/)
    t.same(
      executor.status().instances.filter((i) => i.busy > 0),
      [],
      'no instance is left busy',
    )
    const after = await call('add', ['2', '2'])
    t.equal(after.result, '4', 'the next call succeeds')
    t.equal(after.coldStart, true, 'on a new instance: the one that timed out was disposed')
  })

  t.test(`${subject.name}: an aborted signal stops the call's work and answers CANCELLED`, async (t) => {
    const { call, executor } = await deployed(t, subject)
    const abort = new AbortController()
    const running = call('spin', [], { timeoutMs: 30_000, signal: abort.signal })
    // Aborted once the call is running (its instance busy), as the host does when the caller goes.
    await eventually(() => executor.status().instances.some((i) => i.busy > 0), 'the call running', 10_000)
    abort.abort()
    await rejectsWith(t, running, 'CANCELLED', /spin.*cancelled/)
    t.same(
      executor.status().instances.filter((i) => i.busy > 0),
      [],
      'nothing busy once it answered: the work has stopped',
    )
    const after = await call('add', ['2', '2'])
    t.equal(after.result, '4', 'the next call succeeds')
    t.equal(after.coldStart, true, 'on a new instance: the cancelled one was disposed')
    const early = new AbortController()
    early.abort()
    await rejectsWith(t, call('add', ['1', '1'], { signal: early.signal }), 'CANCELLED', /add/)
  })

  t.test(`${subject.name}: the CPU-time limit ends a busy call before its wall-clock limit`, async (t) => {
    const { call } = await deployed(t, subject)
    await rejectsWith(
      t,
      call('spin', [], { timeoutMs: 10_000, limits: { cpuMs: 300 } }),
      'DEADLINE_EXCEEDED',
      /^function "spin" used more than 300 ms of CPU time/,
    )
    const after = await call('add', ['2', '3'])
    t.equal(after.result, '5', 'the next call succeeds')
  })

  t.test(`${subject.name}: a memory bomb is RESOURCE_EXHAUSTED; the next call gets a new instance`, async (t) => {
    const { call } = await deployed(t, subject)
    await rejectsWith(t, call('hog', []), 'RESOURCE_EXHAUSTED', /hog/)
    const after = await call('add', ['1', '2'])
    t.same([after.result, after.coldStart], ['3', true])
  })

  t.test(`${subject.name}: a result over the size limit is PAYLOAD_TOO_LARGE`, async (t) => {
    const { call } = await deployed(t, subject)
    const limits = { maxResultBytes: 1000 }
    t.equal((await call('big', ['10'], { limits })).result, `"${'x'.repeat(10)}"`)
    await rejectsWith(
      t,
      call('big', ['5000'], { limits }),
      'PAYLOAD_TOO_LARGE',
      /"big" returned more than its limit of 1000 bytes/,
    )
  })

  t.test(`${subject.name}: concurrent calls of one function run on separate instances`, async (t) => {
    const { call, executor } = await deployed(t, subject)
    const results = await Promise.all([call('later', ['"a"']), call('later', ['"b"'])])
    t.same(
      results.map((r) => r.result),
      ['"a!"', '"b!"'],
    )
    const [instances] = executor.status().instances
    t.equal((instances?.busy ?? 0) + (instances?.idle ?? 0), 2, 'two warm instances of the version')
  })

  t.test(
    `${subject.name}: a call naming a version with other code never reaches that version's instances`,
    async (t) => {
      // Versions are sequential; a caller who names the victim's version with its own code
      // must get an instance of its own code, and leave nothing the victim's next call could reach.
      const { call, executor } = await deployed(t, subject)
      const poison = await executor.validate(
        subject.runtime,
        subject.sources.poison,
        `evil${subject.sources.extension}`,
      )
      const poisonHash = await hashOf(poison.code)
      const attack = await call('add', ['3', '5'], { codeHash: poisonHash })
      t.equal(attack.result, '"poisoned"', 'the attacker runs its own code')
      const victim = await call('add', ['3', '5'])
      t.equal(victim.result, '8', "the victim's call runs the victim's code")
      t.equal(victim.coldStart, true, "the attacker's idle instance was not reused")
      const again = await call('add', ['3', '5'], { codeHash: poisonHash })
      t.equal(again.result, '"poisoned"', "the attacker's call does not reach the victim's warm instance")
      t.equal((await call('add', ['3', '5'])).coldStart, false, "the victim's instance stays warm for the victim")
      const other = await call('add', ['3', '5'], { module: 'other' })
      t.equal(other.coldStart, true, 'another module naming the same version and code gets its own instance')
    },
  )

  t.test(`${subject.name}: evict drops the warm instances of older versions`, async (t) => {
    const { call, executor } = await deployed(t, subject)
    await call('add', ['1', '1'])
    executor.evict('conf', 1)
    t.equal(executor.status().instances.length, 1, 'version 1 is not below version 1')
    executor.evict('conf', 2)
    t.same(executor.status().instances, [], 'evicted below version 2')
    t.equal((await call('add', ['1', '1'])).coldStart, true)
    executor.evict('conf', 0)
    t.same(executor.status().instances, [], 'version 0 means every version')
  })

  t.test(`${subject.name}: idle instances are disposed after the TTL`, async (t) => {
    const { call, executor } = await deployed(t, subject, 300)
    await call('add', ['1', '1'])
    t.equal(executor.status().instances.length, 1, 'one warm instance after the call')
    await eventually(() => executor.status().instances.length === 0, 'idle disposal')
    t.pass('the idle instance was disposed')
    t.equal((await call('add', ['1', '1'])).coldStart, true, 'a later call starts a new one')
  })
}
