// A function instance: a generic isolate specialized with one deployment's
// module. One deployment per isolate, never two tenants' code in one isolate.
// A call that breaches a limit disposes the whole instance; it is never reused.
import { inspect } from 'node:util'
import {
  type BreachKind,
  type CallLimits,
  FunctionError,
  LIMIT_BOUNDS,
  LOG_MARKER_SLACK,
  LogBudget,
  OsirisError,
} from '@osiris/proto'
import type ivm from 'isolated-vm'
import { type Breach, CallGuard } from './call-guard.ts'
import { CallTimers } from './call-timers.ts'
import type { EgressPolicy } from './egress.ts'
import { CallFetch } from './fetch-host.ts'
import type { GenericIsolate, LogLevel, LogSink } from './generic-isolate.ts'
import { readOutcome } from './outcome.ts'

export interface Deployment {
  module: string
  version: number
  code: string
  /** sha256 of `code`, hex: an instance serves only calls naming this version, module and hash. */
  codeHash: string
  /** What guest stacks name the module: `math.ts` for TypeScript. Default `${module}.js`. */
  filename?: string
}

type Invoke = (name: string, args: string[], seq: number, limits: number[]) => Promise<string>

export class FunctionInstance {
  readonly deployment: Deployment
  readonly #generic: GenericIsolate
  readonly #invoke: ivm.Reference<Invoke>
  readonly #sink: LogSink
  #seq = 0
  #disposedByHost = false
  /** The current call's console budget (top-level code gets the default one). */
  #logBudget = new LogBudget(LIMIT_BOUNDS.maxLogBytes.default, LOG_MARKER_SLACK)
  busy = false
  /** Evicted while busy: disposed when its call ends. */
  retired = false
  lastUsedMs = Date.now()

  /**
   * Loads the deployment's module into `generic` (compile, link, evaluate) and
   * binds the invoker. Throws OsirisError; on failure the isolate is disposed.
   */
  constructor(generic: GenericIsolate, deployment: Deployment, sink: LogSink, timeoutMs: number) {
    this.deployment = deployment
    this.#generic = generic
    this.#sink = sink
    const started = performance.now()
    try {
      const { isolate, context } = generic
      const module = isolate.compileModuleSync(deployment.code, {
        filename: deployment.filename ?? `${deployment.module}.js`,
      })
      module.instantiateSync(context, (specifier) => {
        throw new Error(`cannot import "${specifier}": functions cannot import modules`)
      })
      generic.sink = (level, line) => this.#log(level, line)
      module.evaluateSync({ timeout: timeoutMs })
      this.#invoke = generic.bind.applySync(undefined, [module.namespace.derefInto()], {
        result: { reference: true },
      }) as ivm.Reference<Invoke>
    } catch (error) {
      const failure = loadError(deployment, error, generic.isolate, performance.now() - started, timeoutMs)
      generic.dispose()
      throw failure
    }
  }

  get disposed(): boolean {
    return this.#generic.disposed
  }

  /** Heap limit of this instance's isolate, MiB. */
  get memoryMb(): number {
    return this.#generic.memoryLimitMb
  }

  /**
   * Host-side backstop of the runtime's own per-call log bound (the runtime
   * can be blinded by tenant code): past it, one marker line of the host's, then nothing.
   */
  #log(level: LogLevel, line: string): void {
    for (const kept of this.#logBudget.take(level, line)) this.#sink(kept.level, kept.line)
  }

  /**
   * Runs `name(...args)` under `limits`. The wall-clock limit covers awaited
   * promises, timers and fetches too: a breach disposes the isolate, which
   * stops the work. Fetches go out under `egress`. `callerDeadline`: limits.timeoutMs
   * is the caller's deadline rather than the function's own limit (said so on a breach).
   * When `signal` aborts (the caller has gone) the instance is disposed, which
   * stops the work, and the call rejects with CANCELLED.
   */
  async call(
    name: string,
    args: string[],
    limits: Readonly<CallLimits>,
    egress: EgressPolicy,
    callerDeadline = false,
    signal?: AbortSignal,
  ): Promise<string> {
    if (signal?.aborted) throw new OsirisError('CANCELLED', `call of "${name}" was cancelled before it ran`)
    const startedMs = performance.now()
    this.lastUsedMs = Date.now()
    const seq = ++this.#seq
    const { isolate } = this.#generic
    const guard = new CallGuard(
      isolate,
      limits,
      () => this.dispose(),
      () => this.#disposedByHost,
    )
    const timers = new CallTimers(seq, () => this.#fire(guard, seq))
    this.#generic.timers = timers
    // The function's own connection pool: its module and name (fetch-host.ts).
    const pool = `${this.deployment.module}/${name}`
    const fetcher = new CallFetch(seq, egress, pool, limits.memoryMb, (id, answer) =>
      this.#deliver(guard, seq, id, answer),
    )
    this.#generic.fetcher = fetcher
    this.#logBudget = new LogBudget(limits.maxLogBytes, LOG_MARKER_SLACK)
    let raw: unknown
    const cancelled = Promise.withResolvers<never>()
    cancelled.promise.catch(() => {})
    const onAbort = (): void => {
      this.dispose()
      cancelled.reject(new OsirisError('CANCELLED', `call of "${name}" was cancelled by its caller and stopped`))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      // Asked again (same seq: the runtime answers the same call's outcome) after a stray rejection.
      for (;;) {
        const work = this.#invoke.apply(undefined, [name, args, seq, isolateLimits(limits)], {
          arguments: { copy: true },
          result: { promise: true, copy: true },
          timeout: guard.remainingMs,
        })
        // Settles late when the isolate's thread is stuck in a builtin that ignores termination.
        work.catch(() => {})
        try {
          raw = await Promise.race([work, guard.stopped, cancelled.promise])
          break
        } catch (error) {
          if (!this.#stray(error, guard)) throw error
        }
      }
    } catch (error) {
      if (signal?.aborted && guard.breach === undefined) {
        this.dispose()
        throw error instanceof OsirisError && error.code === 'CANCELLED'
          ? error
          : new OsirisError('CANCELLED', `call of "${name}" was cancelled by its caller and stopped`)
      }
      throw this.#failure(name, error, guard.breach ?? guard.observed(), limits, callerDeadline && startedMs)
    } finally {
      signal?.removeEventListener('abort', onAbort)
      guard.end()
      timers.close()
      fetcher.close()
      this.lastUsedMs = Date.now()
    }
    if (guard.breach !== undefined)
      throw this.#failure(name, undefined, guard.breach, limits, callerDeadline && startedMs)
    return readOutcome(
      {
        ...this.deployment,
        functionName: name,
        maxResultBytes: limits.maxResultBytes,
        maxResultDepth: limits.maxResultDepth,
      },
      raw,
    )
  }

  /** Runs the call's due timers; resolves the next deadline, or -1. */
  async #fire(guard: CallGuard, seq: number): Promise<number> {
    for (;;) {
      if (this.disposed) return -1
      try {
        const next: unknown = await this.#generic.fire.apply(undefined, [seq], {
          arguments: { copy: true },
          timeout: guard.remainingMs,
        })
        return typeof next === 'number' && Number.isSafeInteger(next) ? next : -1
      } catch (error) {
        // The due timers ran; a stray rejection lost their answer, so the next deadline is asked again.
        if (this.#stray(error, guard)) continue
        this.#stopFor(guard, error)
        return -1
      }
    }
  }

  /**
   * isolated-vm fails a task in which a promise rejection was left unhandled,
   * with that rejection as the error. Unless the host observed a limit, that
   * is neither a breach nor the call's outcome (the runtime answers every
   * outcome as a string): it is logged at level error, as browsers and workerd
   * do, and true is answered. A breach or a disposed isolate answers false.
   */
  #stray(error: unknown, guard: CallGuard): boolean {
    if (guard.breach !== undefined || this.disposed || guard.observed() !== undefined) return false
    this.#log('error', `Uncaught (in promise) ${strayText(error)}`)
    return true
  }

  /** Hands fetch `id` one part of its answer inside the isolate; resolves whether it wants more. */
  async #deliver(guard: CallGuard, seq: number, id: number, answer: unknown[]): Promise<boolean> {
    if (this.disposed) return false
    try {
      const wanted: unknown = await this.#generic.deliver.apply(undefined, [seq, id, answer], {
        arguments: { copy: true },
        timeout: guard.remainingMs,
      })
      return wanted === true
    } catch (error) {
      // Delivered, then a stray rejection lost the answer: the body keeps coming.
      if (this.#stray(error, guard)) return true
      if (!this.disposed) this.#stopFor(guard, error)
      return false
    }
  }

  /**
   * The runtime's timer or fetch entry point failed: a limit the host saw
   * (isolated-vm's own timeout, the heap limit) or, when it saw none, tenant
   * code that broke what the runtime relies on: the call ends as the
   * function's error. The error's text decides nothing.
   */
  #stopFor(guard: CallGuard, error: unknown): void {
    const breach = guard.observed()
    if (breach !== undefined) guard.trip(breach)
    else guard.fail(error)
  }

  /**
   * The error a call that did not answer normally ends with. A breach is what
   * the guard tripped for or, when it had not tripped yet, what it observes
   * now; with none, the rejection came from inside the isolate, so from
   * tenant code as far as the host can tell: FUNCTION_ERROR, its text
   * reported as the function's, never read for a verdict.
   */
  #failure(
    name: string,
    error: unknown,
    breach: Breach | undefined,
    limits: Readonly<CallLimits>,
    callerSince: number | false,
  ): OsirisError {
    this.dispose()
    switch (breach) {
      case 'timeout':
        // The caller's deadline is not the function's limit: no breach.
        if (callerSince !== false) {
          const ranMs = Math.round(performance.now() - callerSince)
          return new OsirisError(
            'DEADLINE_EXCEEDED',
            `function "${name}" had not finished at the caller's deadline (it ran ${ranMs} ms)`,
          )
        }
        return breached('time', 'DEADLINE_EXCEEDED', `function "${name}" ran past its ${limits.timeoutMs} ms timeout`)
      case 'cpu':
        return breached('cpu', 'DEADLINE_EXCEEDED', `function "${name}" used more than ${limits.cpuMs} ms of CPU time`)
      case 'memory':
        return breached(
          'memory',
          'RESOURCE_EXHAUSTED',
          `function "${name}" ran past its ${limits.memoryMb} MiB memory limit and was stopped`,
        )
      default:
        return escaped(`function "${name}"`, error)
    }
  }

  dispose(): void {
    if (!this.#generic.disposed) this.#disposedByHost = true
    this.#generic.dispose()
  }
}

/** A stray rejection's reason as the guest saw it: its stack up to isolated-vm's boundary, else inspected. */
function strayText(reason: unknown): string {
  if (!(reason instanceof Error)) return inspect(reason)
  const lines = (reason.stack ?? `${reason.name}: ${reason.message}`).split('\n')
  const boundary = lines.findIndex((line) => line.includes('<isolated-vm boundary>'))
  return lines
    .slice(0, boundary < 0 ? lines.length : boundary)
    .filter((line) => !line.includes('osiris:runtime'))
    .join('\n')
}

function breached(kind: BreachKind, code: 'DEADLINE_EXCEEDED' | 'RESOURCE_EXHAUSTED', message: string): OsirisError {
  const error = new OsirisError(code, message)
  error.breach = kind
  return error
}

/** Longest name and message kept of what escaped the runtime (the runtime's own cut for what a function throws). */
const NAME_CHARS = 200
const MESSAGE_CHARS = 8192

/**
 * What was thrown out of the isolate past the runtime: tenant code, as far as
 * the host can tell (isolated-vm's own failures are the limits, seen by the
 * guard instead). Reported as the function's error, cut to the runtime's sizes.
 */
function escaped(who: string, error: unknown, during = ''): FunctionError {
  let name = 'Error'
  let message = ''
  if (error instanceof Error) {
    name = typeof error.name === 'string' ? error.name.slice(0, NAME_CHARS) : 'Error'
    message = String(error.message).slice(0, MESSAGE_CHARS)
  } else message = String(error).slice(0, MESSAGE_CHARS)
  return new FunctionError(`${who} threw ${name}${during}: ${message}`, { name, message, stack: '' })
}

/**
 * Loading failed: a limit when the host saw one (the isolate disposed by
 * isolated-vm for its heap limit, the load's time used up), else the top
 * level threw: the module's own error, whatever its text says.
 */
function loadError(
  deployment: Deployment,
  error: unknown,
  isolate: ivm.Isolate,
  elapsedMs: number,
  timeoutMs: number,
): OsirisError {
  const where = `module "${deployment.module}" v${deployment.version}`
  if (isolate.isDisposed) {
    return breached('memory', 'RESOURCE_EXHAUSTED', `${where}: top-level code ran past its memory limit`)
  }
  if (elapsedMs >= timeoutMs) {
    return breached('time', 'DEADLINE_EXCEEDED', `${where}: top-level code ran past its timeout`)
  }
  return escaped(where, error, ' while loading')
}

/** The limits the runtime inside the isolate enforces itself, in the order its invoke() takes them. */
function isolateLimits(limits: Readonly<CallLimits>): number[] {
  return [limits.maxResultBytes, limits.maxResultDepth, limits.maxLogBytes, limits.maxTimers]
}
