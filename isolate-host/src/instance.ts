// A function instance: a generic isolate specialized with one deployment's
// module. One deployment per isolate, never two tenants' code in one isolate.
// A call that breaches a limit disposes the whole instance; it is never reused.
import { type CallLimits, LIMIT_BOUNDS, OsirisError } from '@osiris/proto'
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
}

type Invoke = (name: string, args: string[], seq: number, limits: number[]) => Promise<string>

/** Room for the runtime's truncation marker on top of a call's log budget. */
const MARKER_BYTES = 256

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export class FunctionInstance {
  readonly deployment: Deployment
  readonly #generic: GenericIsolate
  readonly #invoke: ivm.Reference<Invoke>
  readonly #sink: LogSink
  #seq = 0
  #disposedByHost = false
  #logLeft = LIMIT_BOUNDS.maxLogBytes.default + MARKER_BYTES
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
    try {
      const { isolate, context } = generic
      const module = isolate.compileModuleSync(deployment.code, { filename: `${deployment.module}.js` })
      module.instantiateSync(context, (specifier) => {
        throw new Error(`cannot import "${specifier}": functions cannot import modules`)
      })
      generic.sink = (level, line) => this.#log(level, line)
      module.evaluateSync({ timeout: timeoutMs })
      this.#invoke = generic.bind.applySync(undefined, [module.namespace.derefInto()], {
        result: { reference: true },
      }) as ivm.Reference<Invoke>
    } catch (error) {
      generic.dispose()
      throw loadError(deployment, error)
    }
  }

  get disposed(): boolean {
    return this.#generic.disposed
  }

  /** Heap limit of this instance's isolate, MiB. */
  get memoryMb(): number {
    return this.#generic.memoryLimitMb
  }

  /** Host-side backstop of the runtime's own per-call log bound. */
  #log(level: LogLevel, line: string): void {
    const size = Buffer.byteLength(line) + 1
    if (size > this.#logLeft) {
      this.#logLeft = 0
      return
    }
    this.#logLeft -= size
    this.#sink(level, line)
  }

  /**
   * Runs `name(...args)` under `limits`. The wall-clock limit covers awaited
   * promises, timers and fetches too: a breach disposes the isolate, which
   * stops the work. Fetches go out under `egress`. When `signal` aborts (the
   * caller has gone) the instance is disposed, which stops the work, and the
   * call rejects with CANCELLED.
   */
  async call(
    name: string,
    args: string[],
    limits: Readonly<CallLimits>,
    egress: EgressPolicy,
    signal?: AbortSignal,
  ): Promise<string> {
    if (signal?.aborted) throw new OsirisError('CANCELLED', `call of "${name}" was cancelled before it ran`)
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
    const fetcher = new CallFetch(seq, egress, (id, answer) => this.#deliver(guard, seq, id, answer))
    this.#generic.fetcher = fetcher
    this.#logLeft = limits.maxLogBytes + MARKER_BYTES
    let raw: unknown
    const cancelled = Promise.withResolvers<never>()
    cancelled.promise.catch(() => {})
    const onAbort = (): void => {
      this.dispose()
      cancelled.reject(new OsirisError('CANCELLED', `call of "${name}" was cancelled by its caller and stopped`))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const work = this.#invoke.apply(undefined, [name, args, seq, isolateLimits(limits)], {
        arguments: { copy: true },
        result: { promise: true, copy: true },
        timeout: limits.timeoutMs,
      })
      // Settles late when the isolate's thread is stuck in a builtin that ignores termination.
      work.catch(() => {})
      raw = await Promise.race([work, guard.stopped, cancelled.promise])
    } catch (error) {
      if (signal?.aborted && guard.breach === undefined) {
        this.dispose()
        throw error instanceof OsirisError && error.code === 'CANCELLED'
          ? error
          : new OsirisError('CANCELLED', `call of "${name}" was cancelled by its caller and stopped`)
      }
      throw this.#failure(name, error, guard.breach, limits)
    } finally {
      signal?.removeEventListener('abort', onAbort)
      guard.end()
      timers.close()
      fetcher.close()
      this.lastUsedMs = Date.now()
    }
    if (guard.breach !== undefined) throw this.#failure(name, undefined, guard.breach, limits)
    return readOutcome({ ...this.deployment, functionName: name, maxResultBytes: limits.maxResultBytes }, raw)
  }

  /** Runs the call's due timers; resolves the next deadline, or -1. */
  async #fire(guard: CallGuard, seq: number): Promise<number> {
    if (this.disposed) return -1
    try {
      const next: unknown = await this.#generic.fire.apply(undefined, [seq], {
        arguments: { copy: true },
        timeout: guard.remainingMs,
      })
      return typeof next === 'number' && Number.isSafeInteger(next) ? next : -1
    } catch (error) {
      if (!this.disposed) guard.trip(breachOf(messageOf(error)) ?? 'timeout')
      return -1
    }
  }

  /** Hands fetch `id` its answer inside the isolate. */
  #deliver(guard: CallGuard, seq: number, id: number, answer: unknown[]): void {
    if (this.disposed) return
    this.#generic.deliver
      .apply(undefined, [seq, id, answer], { arguments: { copy: true }, timeout: guard.remainingMs })
      .catch((error: unknown) => {
        if (!this.disposed) guard.trip(breachOf(messageOf(error)) ?? 'timeout')
      })
  }

  #failure(name: string, error: unknown, breach: Breach | undefined, limits: Readonly<CallLimits>): OsirisError {
    this.dispose()
    switch (breach ?? breachOf(messageOf(error))) {
      case 'timeout':
        return new OsirisError('DEADLINE_EXCEEDED', `function "${name}" ran past its ${limits.timeoutMs} ms timeout`)
      case 'cpu':
        return new OsirisError('DEADLINE_EXCEEDED', `function "${name}" used more than ${limits.cpuMs} ms of CPU time`)
      case 'memory':
        return new OsirisError(
          'RESOURCE_EXHAUSTED',
          `function "${name}" ran past its ${limits.memoryMb} MiB memory limit and was stopped`,
        )
      default:
        return new OsirisError('INTERNAL', `function "${name}" failed in its isolate: ${messageOf(error)}`)
    }
  }

  dispose(): void {
    if (!this.#generic.disposed) this.#disposedByHost = true
    this.#generic.dispose()
  }
}

/** What isolated-vm's error says happened, when it says. */
function breachOf(message: string): Breach | undefined {
  if (/memory limit/i.test(message)) return 'memory'
  if (/timed out/i.test(message)) return 'timeout'
  return undefined
}

function loadError(deployment: Deployment, error: unknown): OsirisError {
  const message = messageOf(error)
  const where = `module "${deployment.module}" v${deployment.version}`
  if (/timed out/i.test(message)) {
    return new OsirisError('DEADLINE_EXCEEDED', `${where}: top-level code ran past its timeout`)
  }
  if (/memory limit/i.test(message)) {
    return new OsirisError('RESOURCE_EXHAUSTED', `${where}: top-level code ran past its memory limit`)
  }
  return new OsirisError('INTERNAL', `${where} failed to load: ${message}`)
}

/** The limits the runtime inside the isolate enforces itself, in the order its invoke() takes them. */
function isolateLimits(limits: Readonly<CallLimits>): number[] {
  return [limits.maxResultBytes, limits.maxResultDepth, limits.maxLogBytes, limits.maxTimers]
}
