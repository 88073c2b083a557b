// What a shim answered, or how its container ended, → a result or the
// OsirisError to throw. Everything a shim sends is tenant-controlled in the
// worst case (the function runs in the shim's process), so shapes are checked.
import {
  type BreachKind,
  boundGuestError,
  cutText,
  FunctionError,
  OsirisError,
  type ValidateResponse,
} from '@osiris/proto'
import type { Ending } from './container.ts'
import type { ShimAnswer } from './shim-channel.ts'

export interface CallContext {
  module: string
  version: number
  functionName: string
  memoryMb: number
  timeoutMs: number
  cpuMs: number
  /** timeoutMs is the caller's deadline, sooner than the function's own limit: a breach says so. */
  callerDeadline?: boolean
  /** When the call started (performance.now()), for how long it ran. */
  startedMs?: number
}

/**
 * How a shim's process ends when its call uses up its CPU time: killed by
 * SIGPROF (27) from the CPU-time timer the shim arms per call, which the
 * container's init reports as 128 + 27.
 */
const CPU_LIMIT_EXIT_CODE = 128 + 27

function cpuError(ctx: CallContext, after = ''): OsirisError {
  return new OsirisError(
    'DEADLINE_EXCEEDED',
    `function "${ctx.functionName}" used more than ${ctx.cpuMs} ms of CPU time${after}`,
  )
}

/**
 * The limit a call broke, as a field (OsirisError.breach). Set where the host
 * or the engine saw it: its own deadline timer, the engine's OOM kill, the
 * process killed by the CPU-time signal. The shim's own reports (a MemoryError
 * raised, `cpu: true`) come from the function's process, which can write
 * them: they keep their codes (the container is discarded either way) but
 * carry no breach, so they count in no breach metric.
 */
function withBreach(kind: BreachKind, error: OsirisError): OsirisError {
  error.breach = kind
  return error
}

const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback)

/** The guest error a shim reported, each field cut in bytes here (the shim's own cut is not trusted). */
function guestOf(value: unknown): { name: string; message: string; stack: string } {
  const e = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  return boundGuestError({ name: str(e.name, 'Exception'), message: str(e.message), stack: str(e.stack) })
}

/** True when the answer means the container must not be reused. */
export function poisons(answer: ShimAnswer): boolean {
  return 'error' in answer && guestOf(answer.error).name === 'MemoryError'
}

/** A compile failure the shim reported, as COMPILE_ERROR naming line and column. */
export function compileError(filename: string, answer: ShimAnswer): OsirisError | undefined {
  if (!('compile' in answer)) return undefined
  const c =
    typeof answer.compile === 'object' && answer.compile !== null ? (answer.compile as Record<string, unknown>) : {}
  const line = typeof c.line === 'number' ? c.line : 0
  const column = typeof c.column === 'number' ? c.column : 0
  const where = line > 0 ? ` (line ${line}, column ${column})` : ''
  return new OsirisError(
    'COMPILE_ERROR',
    `${filename} does not compile: ${cutText(str(c.name, 'SyntaxError'), 256)}: ${cutText(str(c.message, 'invalid syntax'), 2048)}${where}`,
  )
}

/** The result's JSON text of a call answer, or throws its OsirisError. */
export function readCallAnswer(ctx: CallContext, answer: ShimAnswer): string {
  if (typeof answer.result === 'string') return answer.result
  if ('error' in answer) {
    const guest = guestOf(answer.error)
    if (guest.name === 'MemoryError') {
      throw new OsirisError(
        'RESOURCE_EXHAUSTED',
        `function "${ctx.functionName}" ran out of memory (limit ${ctx.memoryMb} MiB); its container was removed`,
      )
    }
    return throwGuest(ctx, guest)
  }
  if (answer.cpu === true) throw cpuError(ctx)
  if ('notJson' in answer) {
    throw new OsirisError(
      'RESULT_NOT_JSON',
      `function "${ctx.functionName}" returned a value that cannot be encoded as JSON: ${cutText(str(answer.notJson), 512)}`,
    )
  }
  if (answer.missing === true) {
    throw new OsirisError('NOT_FOUND', `module "${ctx.module}" v${ctx.version} has no function "${ctx.functionName}"`)
  }
  if ('fault' in answer) throw new OsirisError('INTERNAL', `the shim failed: ${cutText(str(answer.fault), 2048)}`)
  throw new OsirisError('INTERNAL', `function "${ctx.functionName}": the shim answered an unknown outcome`)
}

function throwGuest(ctx: CallContext, guest: { name: string; message: string; stack: string }): never {
  throw new FunctionError(`function "${ctx.functionName}" raised ${guest.name}: ${guest.message}`, guest)
}

/** A module whose top level raised while loading, as FUNCTION_ERROR. */
export function loadError(ctx: CallContext, answer: ShimAnswer): FunctionError {
  const guest = guestOf(answer.error)
  return new FunctionError(
    `module "${ctx.module}" v${ctx.version} raised ${guest.name} while loading: ${guest.message}`,
    guest,
  )
}

export function deadlineError(ctx: CallContext): OsirisError {
  if (ctx.callerDeadline) {
    const ranMs = Math.round(performance.now() - (ctx.startedMs ?? performance.now()))
    return new OsirisError(
      'DEADLINE_EXCEEDED',
      `function "${ctx.functionName}" had not finished at the caller's deadline (it ran ${ranMs} ms); its container was killed`,
    )
  }
  return withBreach(
    'time',
    new OsirisError(
      'DEADLINE_EXCEEDED',
      `function "${ctx.functionName}" ran past its ${ctx.timeoutMs} ms limit; its container was killed`,
    ),
  )
}

/** The container ended during the call: the memory limit, or anything else (UNAVAILABLE). */
export function endingError(ctx: CallContext, ending: Ending): OsirisError {
  if (ending.oomKilled) {
    return withBreach(
      'memory',
      new OsirisError(
        'RESOURCE_EXHAUSTED',
        `function "${ctx.functionName}" went over its memory limit of ${ctx.memoryMb} MiB; its container was killed`,
      ),
    )
  }
  if (ending.exitCode === CPU_LIMIT_EXIT_CODE) return withBreach('cpu', cpuError(ctx, '; its container was killed'))
  const code = ending.exitCode === undefined ? 'it is gone' : `exit code ${ending.exitCode}`
  return new OsirisError(
    'UNAVAILABLE',
    `the container running "${ctx.functionName}" ended during the call (${code}); a new one takes its place`,
  )
}

/** The functions a `check` answer lists. */
export function readFunctions(answer: ShimAnswer): ValidateResponse['functions'] {
  if (!Array.isArray(answer.functions)) throw new OsirisError('INTERNAL', 'the shim answered no function list')
  return (answer.functions as unknown[]).map((f) => {
    const fn = f as { name?: unknown; params?: unknown }
    const params = Array.isArray(fn.params) ? (fn.params as Record<string, unknown>[]) : []
    return {
      name: String(fn.name),
      params: params.map((p) => ({ name: String(p.name), optional: p.optional === true, rest: p.rest === true })),
    }
  })
}

/** One log entry a shim sent: `{level, line}`, checked. */
export function readLogEntry(entry: unknown): { level: 'info' | 'warn' | 'error'; line: string } {
  const e = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {}
  return { level: e.level === 'error' ? 'error' : e.level === 'warn' ? 'warn' : 'info', line: str(e.line) }
}
