// The call path: look the function up, check its arguments, get a slot on a
// host (at once, or from the queue), and invoke it there within the caller's
// deadline. A call that never started on its host (the host was unreachable
// or already leaving) goes to another host; a call in flight on a host that is
// lost ends with UNAVAILABLE at once, never silence.
import { randomUUID } from 'node:crypto'
import {
  type BreachKind,
  type CallResponse,
  fromServiceError,
  isTransportError,
  LIMIT_BOUNDS,
  neverStarted,
  OsirisError,
  unary,
} from '@osiris/proto'
import { checkArguments } from './arguments.ts'
import { CallQueue, type Slot } from './call-queue.ts'
import type { FunctionRegistry } from './function-registry.ts'
import type { HostEntry, HostRegistry } from './host-registry.ts'
import { pickHost, reserve } from './router.ts'
import type { FunctionRecord } from './store/store.ts'

export interface CallOptions {
  callId?: string | undefined
  /** Absolute deadline, ms since the epoch; Infinity for none. */
  deadlineMs?: number | undefined
  signal?: AbortSignal | undefined
}

/** What a finished call reports to observers (metrics). */
export interface CallRecord {
  name: string
  /** 'OK' or the error code. */
  outcome: string
  /** The error's message, when the call failed. */
  message?: string
  /** The limit the host saw the call break (OsirisError.breach), when it did. */
  breach?: BreachKind
  durationMs: number
  queuedMs: number
  response?: CallResponse
}

export interface DispatcherOptions {
  /** Wall-clock limit of a call when the caller sets none shorter, ms. */
  callTimeoutMs: number
  maxArgumentBytes: number
  maxInstancesPerFunction: number
  maxQueuedPerFunction: number
}

/** Time given to a host's answer past the call's own limit, which the host enforces. */
const ANSWER_SLACK_MS = 1000
/** Most time a call's answer is sent ahead of its caller's deadline, ms. */
const DEADLINE_MARGIN_MS = 50
/** Hosts a call that never started is offered to before it fails. */
const MAX_ATTEMPTS = 3

export class Dispatcher {
  readonly #functions: FunctionRegistry
  readonly #hosts: HostRegistry
  readonly #options: DispatcherOptions
  readonly queue: CallQueue
  readonly #observe: ((record: CallRecord) => void) | undefined

  constructor(
    functions: FunctionRegistry,
    hosts: HostRegistry,
    options: DispatcherOptions,
    observe?: (record: CallRecord) => void,
  ) {
    this.#observe = observe
    this.#functions = functions
    this.#hosts = hosts
    this.#options = options
    this.queue = new CallQueue({ maxPerFunction: options.maxQueuedPerFunction, retryAfterMs: 100 }, (fn, exclude) =>
      this.#place(fn, exclude),
    )
    const pump = (): void => this.queue.pump()
    hosts.on('added', pump)
    hosts.on('status', pump)
    hosts.on('removed', pump)
  }

  #place(fn: FunctionRecord, exclude: ReadonlySet<string>): Slot | undefined {
    const limits = { maxInstancesPerFunction: this.#options.maxInstancesPerFunction }
    const host = pickHost(this.#hosts.list(), fn, limits, exclude)
    return host ? { host, release: reserve(host, fn.version) } : undefined
  }

  async call(name: string, args: string[], options: CallOptions = {}): Promise<CallResponse> {
    const started = performance.now()
    let queuedMs = 0
    try {
      const fn = this.#functions.get(name)
      checkArguments(name, fn.params, args, this.#options.maxArgumentBytes)
      const callId = options.callId || randomUUID()
      const callerDeadlineMs = options.deadlineMs ?? Number.POSITIVE_INFINITY
      // The function's own wall-clock limit when it was deployed with one, else the platform's.
      const ownLimitMs = fn.limits.timeoutMs || this.#options.callTimeoutMs
      const deadlineMs = Math.min(callerDeadlineMs, Date.now() + ownLimitMs)
      const tried = new Set<string>()
      for (;;) {
        const slot = await this.queue.acquire(fn, tried, deadlineMs, options.signal)
        queuedMs += slot.waitedMs ?? 0
        const routedMs = performance.now() - started - queuedMs
        try {
          const response = await this.#invoke(slot.host, fn, args, callId, callerDeadlineMs, options.signal)
          response.queuedUs = Math.round(queuedMs * 1000)
          response.routeUs = Math.round(routedMs * 1000)
          response.totalUs = Math.round((performance.now() - started) * 1000)
          this.#observe?.({ name, outcome: 'OK', durationMs: performance.now() - started, queuedMs, response })
          return response
        } catch (error) {
          if (!(error instanceof NotStarted)) throw error
          tried.add(slot.host.id)
          if (tried.size >= MAX_ATTEMPTS) throw new OsirisError('UNAVAILABLE', error.reason.message)
        } finally {
          slot.release()
          this.queue.pump()
        }
      }
    } catch (error) {
      const outcome = error instanceof OsirisError ? error.code : 'INTERNAL'
      const message = error instanceof Error ? error.message : String(error)
      const record: CallRecord = { name, outcome, message, durationMs: performance.now() - started, queuedMs }
      if (error instanceof OsirisError && error.breach !== undefined) record.breach = error.breach
      this.#observe?.(record)
      throw error
    }
  }

  async #invoke(
    host: HostEntry,
    fn: FunctionRecord,
    args: string[],
    callId: string,
    callerDeadlineMs: number,
    signal: AbortSignal | undefined,
  ): Promise<CallResponse> {
    // The host stops the call a little before the caller's deadline, so the
    // caller hears DEADLINE_EXCEEDED from us rather than cancelling blind.
    const remainingMs = callerDeadlineMs - Date.now()
    const callerMs = Math.max(1, remainingMs - Math.min(DEADLINE_MARGIN_MS, remainingMs / 10))
    // The function's own limit (else the platform's) is sent as a limit, whole, so the host
    // reports a breach of it in the user's units ("its 2000 ms timeout"); the caller's
    // deadline goes as timeoutMs only when it is the sooner (0: none sooner).
    const limitMs = Math.min(fn.limits.timeoutMs || this.#options.callTimeoutMs, LIMIT_BOUNDS.timeoutMs.max)
    const callerBinds = callerMs < limitMs
    const timeoutMs = callerBinds ? Math.min(Math.floor(callerMs), 2 ** 31 - 1) : 0
    const request = {
      callId,
      functionName: fn.name,
      module: fn.module,
      version: fn.version,
      runtime: fn.runtime,
      codeHash: fn.codeHash,
      args,
      timeoutMs,
      limits: { ...fn.limits, timeoutMs: limitMs },
      egressAllow: fn.egressAllow,
    }
    // Two listeners, not AbortSignal.any: a composite of the long-lived host
    // signal per call costs a WeakRef and a finalizer, and every caller abort
    // then also walks it.
    const abort = signal ? [signal, host.lost.signal] : host.lost.signal
    try {
      const response = await unary(host.client, host.client.Invoke, request, {
        timeoutMs: (callerBinds ? timeoutMs : limitMs) + ANSWER_SLACK_MS,
        signal: abort,
      })
      return {
        result: response.result,
        version: fn.version,
        callId,
        hostId: host.id,
        coldStart: response.coldStart,
        hostDurationUs: response.durationUs,
        codeFetchUs: response.codeFetchUs,
        startUs: response.startUs,
        executionUs: response.executionUs,
        // Filled in by call().
        queuedUs: 0,
        routeUs: 0,
        totalUs: 0,
      }
    } catch (error) {
      const lost = `host "${host.id}" was lost while the call of "${fn.name}" was in flight`
      if (host.lost.signal.aborted && !signal?.aborted)
        throw new OsirisError('UNAVAILABLE', `${lost}: ${host.goneReason}`)
      const converted = fromServiceError(error, `host "${host.id}"`)
      if (neverStarted(error) || converted.code === 'CLOSED') throw new NotStarted(converted)
      if (isTransportError(error) && converted.code === 'UNAVAILABLE') {
        throw new OsirisError('UNAVAILABLE', `${lost}: ${error.details}`)
      }
      throw converted
    }
  }
}

/** The host never ran the call; the dispatcher tries another. */
class NotStarted extends Error {
  readonly reason: OsirisError

  constructor(reason: OsirisError) {
    super(reason.message)
    this.reason = reason
  }
}
