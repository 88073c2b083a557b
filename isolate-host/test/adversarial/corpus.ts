// The adversarial corpus's runner. Each case is a hostile module deployed and
// called through the real executor path; every case asserts (1) the exact
// error code or the exact safe result, (2) no escape: a canary secret held in
// the host's environment and memory never comes back, and the host's
// built-ins are unchanged, (3) a neighbour function called concurrently sees
// zero failures, (4) the executor still serves afterwards.
import { randomUUID } from 'node:crypto'
import type { BreachKind, CallLimits, ErrorCode } from '@osiris/proto'
import { OsirisError } from '@osiris/proto'
import type t from 'tap'
import type { Test } from 'tap'
import type { InvokeResult } from '../../src/executor.ts'
import { harness, until } from './harness.ts'

export interface Case {
  /** One line: what the hostile function tries. */
  name: string
  /** The module; the function called is `attack`. */
  source: string
  args?: unknown[]
  json?: string[]
  timeoutMs?: number
  limits?: Partial<CallLimits>
  /** Hosts fetch may reach although they are loopback (a test server on 127.0.0.1). */
  egressAllow?: string[]
  /** The exact code and message; `breach` is the limit the host must report (none when unset). */
  expect: { code: ErrorCode; message?: string | RegExp; breach?: BreachKind } | { result: unknown }
  /** Further checks on what the call left behind (its console lines). */
  logs?: (lines: string[]) => void | Promise<void>
}

export const CANARY = `canary-${randomUUID()}`
process.env.OSIRIS_ADVERSARIAL_CANARY = CANARY
;(globalThis as Record<string, unknown>).osirisAdversarialCanary = { secret: CANARY }

const WATCHED: Record<string, object> = {
  'Object.prototype': Object.prototype,
  'Array.prototype': Array.prototype,
  'Function.prototype': Function.prototype,
  'String.prototype': String.prototype,
  'Promise.prototype': Promise.prototype,
  'Error.prototype': Error.prototype,
  JSON,
  Object,
  Array,
  Reflect,
  Math,
  globalThis,
}

/** Every own property of the host's built-ins, by identity of its value or accessors. */
function snapshotBuiltins(): Map<string, unknown> {
  const snapshot = new Map<string, unknown>()
  for (const [label, target] of Object.entries(WATCHED)) {
    for (const key of Reflect.ownKeys(target)) {
      const d = Object.getOwnPropertyDescriptor(target, key)
      // Node adds symbol-keyed globals lazily (undici's dispatcher); the canary is ours.
      if (label === 'globalThis' && (typeof key === 'symbol' || key.startsWith('osiris'))) continue
      snapshot.set(`${label}.${String(key)}`, d && ('value' in d ? d.value : [d.get, d.set]))
    }
  }
  return snapshot
}

function changedBuiltins(before: Map<string, unknown>): string[] {
  const after = snapshotBuiltins()
  const changed: string[] = []
  for (const [key, v] of after) {
    const was = before.get(key)
    const same = Array.isArray(v) && Array.isArray(was) ? v[0] === was[0] && v[1] === was[1] : Object.is(v, was)
    if (!before.has(key) || !same) changed.push(key)
  }
  for (const key of before.keys()) if (!after.has(key)) changed.push(key)
  return changed
}

const NEIGHBOUR = `export async function echo(x) { await new Promise((r) => setTimeout(r, 0)); return { x, t: typeof process } }`

export async function runCase(t: Test, c: Case): Promise<void> {
  const before = snapshotBuiltins()
  const h = await harness(t)
  const attacker = await h.deploy(c.source, 'attacker')
  const neighbour = await h.deploy(NEIGHBOUR, 'neighbour')
  let running = true
  let served = 0
  const failures: unknown[] = []
  const loop = (async () => {
    while (running) {
      try {
        const out = await neighbour.call('echo', { args: [served], callId: 'neighbour' })
        if (out.result !== `{"x":${served},"t":"undefined"}`) failures.push(out.result)
        served++
      } catch (error) {
        failures.push(error)
      }
    }
  })()
  let outcome: InvokeResult | OsirisError
  try {
    const call: Parameters<typeof attacker.call>[1] = { callId: 'attack', timeoutMs: c.timeoutMs ?? 2000 }
    if (c.args) call.args = c.args
    if (c.json) call.json = c.json
    if (c.limits) call.limits = c.limits
    if (c.egressAllow) call.egressAllow = c.egressAllow
    outcome = await attacker.call('attack', call).catch((error: unknown) => {
      if (error instanceof OsirisError) return error
      throw error
    })
    await until(() => served >= 3)
  } finally {
    running = false
    await loop
  }

  if ('result' in c.expect) {
    if (outcome instanceof OsirisError) t.fail(`expected a result, got ${outcome.code}: ${outcome.message}`)
    else t.same(JSON.parse(outcome.result), c.expect.result, 'the exact safe result')
  } else if (outcome instanceof OsirisError) {
    t.equal(outcome.code, c.expect.code, `code ${c.expect.code}`)
    t.equal(outcome.breach, c.expect.breach, `breach ${c.expect.breach ?? 'none'}, as the host saw it`)
    if (typeof c.expect.message === 'string') t.equal(outcome.message, c.expect.message)
    else if (c.expect.message) t.match(outcome.message, c.expect.message)
  } else t.fail(`expected ${c.expect.code}, got the result ${outcome.result.slice(0, 200)}`)

  const lines = h.logs.filter((l) => l.callId === 'attack').map((l) => l.line)
  const seen = JSON.stringify([outcome instanceof OsirisError ? [outcome.message, outcome] : outcome.result, lines])
  t.notOk(seen.includes(CANARY), 'the canary secret never comes back')
  t.same(changedBuiltins(before), [], "the host's built-ins are unchanged")
  t.same(failures, [], 'the neighbour saw no failures')
  t.ok(served >= 3, `the neighbour was served meanwhile (${served} calls)`)
  const after = await h.deploy('export function ok() { return "still serving" }', 'after')
  t.equal((await after.call('ok')).result, '"still serving"', 'the executor still serves')
  await c.logs?.(lines)
}

export function runCorpus(tap: typeof t, cases: readonly Case[]): void {
  for (const c of cases) tap.test(c.name, (t) => runCase(t, c))
}
