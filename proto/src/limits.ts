// Per-function limits: what one call of a function may use. Each has a
// platform default and a maximum; a function may ask for less or more (up to
// the maximum) at deploy, and resolveLimits turns what it asked for into one
// complete, frozen set. Every executor (isolates and containers) resolves a
// call's limits here, so the defaults are the same whatever runs the code. A
// call past any limit ends with the code in DESIGN.md's table.
import { OsirisError } from './errors.ts'

export interface CallLimits {
  /** Wall-clock time of one call, awaited work and timers included, ms. */
  timeoutMs: number
  /** CPU time of one call (isolate.cpuTime), ms. */
  cpuMs: number
  /** Heap limit of the function's isolate, MiB. */
  memoryMb: number
  /** Size of the result's JSON text, UTF-8 bytes. */
  maxResultBytes: number
  /** Deepest nesting of arrays and objects in a result. */
  maxResultDepth: number
  /** Console output of one call, UTF-8 bytes; past it one marker line, then nothing. */
  maxLogBytes: number
  /** Timers pending at once in one call. */
  maxTimers: number
}

type Bounds = Readonly<Record<keyof CallLimits, { min: number; default: number; max: number }>>

export const LIMIT_BOUNDS: Bounds = Object.freeze({
  timeoutMs: { min: 1, default: 30_000, max: 300_000 },
  cpuMs: { min: 1, default: 10_000, max: 300_000 },
  memoryMb: { min: 8, default: 128, max: 1024 },
  maxResultBytes: { min: 2, default: 1024 * 1024, max: 16 * 1024 * 1024 },
  maxResultDepth: { min: 1, default: 128, max: 1024 },
  maxLogBytes: { min: 0, default: 64 * 1024, max: 1024 * 1024 },
  maxTimers: { min: 0, default: 1000, max: 10_000 },
})

const NAMES = Object.keys(LIMIT_BOUNDS) as (keyof CallLimits)[]

/** The platform defaults, with the host's own overrides (e.g. its --memory). */
export function defaultLimits(overrides: Partial<CallLimits> = {}): Readonly<CallLimits> {
  const base = Object.fromEntries(NAMES.map((name) => [name, LIMIT_BOUNDS[name].default])) as unknown as CallLimits
  return resolveLimits(overrides, base)
}

/**
 * `requested` over `defaults`: every value an integer within its bounds,
 * else INVALID_ARGUMENT naming the limit, the value and the range. A 0 for a
 * limit whose minimum is above 0 means "the default" (proto3 has no unset
 * numbers); where 0 is allowed (maxLogBytes, maxTimers) it means 0.
 */
export function resolveLimits(
  requested: Partial<CallLimits> | null | undefined,
  defaults: Readonly<CallLimits>,
): Readonly<CallLimits> {
  if (requested === undefined || requested === null) return defaults
  const resolved = { ...defaults }
  for (const name of NAMES) {
    const value: unknown = requested[name]
    const { min, max } = LIMIT_BOUNDS[name]
    if (value === undefined || (value === 0 && min > 0)) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new OsirisError(
        'INVALID_ARGUMENT',
        `limit ${name} must be an integer from ${min} to ${max}, got ${typeof value === 'number' ? value : JSON.stringify(value)}`,
      )
    }
    resolved[name] = value
  }
  return Object.freeze(resolved)
}

/** The kinds of per-function limit a call can breach, as the limit-breach metrics label them. */
export type BreachKind = 'time' | 'cpu' | 'memory' | 'result'

/**
 * The per-function limit an error reports, from its code and the executors'
 * message; undefined for an error that shares a code with one but is not a
 * function's limit: a queue's deadline or bound, a caller's oversized
 * arguments, a host at its instance cap. Executors name the function or its
 * module first (`function "f" …`, `module "m" v3: top-level code …`).
 */
export function breachOf(code: string, message: string): BreachKind | undefined {
  if (!/^(function|module) "/.test(message)) return undefined
  switch (code) {
    case 'DEADLINE_EXCEEDED':
      return / ms of CPU time/.test(message) ? 'cpu' : 'time'
    case 'RESOURCE_EXHAUSTED':
      return /memory/.test(message) ? 'memory' : undefined
    case 'PAYLOAD_TOO_LARGE':
      return 'result'
    case 'RESULT_NOT_JSON':
      return /nests deeper than \d+ levels/.test(message) ? 'result' : undefined
    default:
      return undefined
  }
}
