// The call path: look the function up, check its arguments, get a slot on a
// host (at once, or from the queue), and invoke it there within the caller's
// deadline. A call that provably never started on its host (host-invoker.ts
// says how that is known) goes to another host; any other failure is the
// call's answer, with `started = 'maybe'` when it may have run. A slot whose
// call was cut off (caller gone, deadline) stays taken until the host confirms
// the work stopped, so the caps hold under a storm of cancelled calls.
import { randomUUID } from 'node:crypto'
import {
  type BreachKind,
  type CallResponse,
  type InvokeRequest,
  LIMIT_BOUNDS,
  notStarted,
  OsirisError,
} from '@osiris/proto'
import { checkArguments } from './arguments.ts'
import { CallQueue, type Slot } from './call-queue.ts'
import { type Clock, systemClock, type TimerHandle } from './clock.ts'
import type { FunctionRegistry } from './function-registry.ts'
import { type HostInvoker, invokeOverGrpc } from './host-invoker.ts'
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
  /**
   * After the controller starts, how long calls are held (within their
   * deadlines) while no host has registered yet, rather than failed with "no
   * hosts are connected": hosts redial a restarted controller within about
   * 300 ms. Ends early once a host registers. Default 3000 ms.
   */
  startupHoldMs?: number
}

/** Seams for tests: the clock and how a call reaches a host. */
export interface DispatcherDeps {
  clock?: Clock
  invoke?: HostInvoker
  observe?: (record: CallRecord) => void
}

/** Time given to a host's answer past the call's own limit, which the host enforces. */
const ANSWER_SLACK_MS = 1000
/** Most time a call's answer is sent ahead of its caller's deadline, ms. */
const DEADLINE_MARGIN_MS = 50
/** Hosts a call that never started is offered to before it fails. */
export const MAX_ATTEMPTS = 3

export class Dispatcher {
  readonly #functions: FunctionRegistry
  readonly #hosts: HostRegistry
  readonly #options: DispatcherOptions
  readonly queue: CallQueue
  readonly #observe: ((record: CallRecord) => void) | undefined
  readonly #clock: Clock
  readonly #invoke: HostInvoker
  /** Until then (ms since the epoch), with no host registered yet, calls wait rather than fail. */
  #holdUntilMs: number
  #holdTimer: TimerHandle | undefined
  /** Calls between arrival and answer. */
  #inFlight = 0
  #idle: Array<() => void> = []
  #closed = false

  constructor(functions: FunctionRegistry, hosts: HostRegistry, options: DispatcherOptions, deps: DispatcherDeps = {}) {
    this.#observe = deps.observe
    this.#clock = deps.clock ?? systemClock
    this.#invoke = deps.invoke ?? invokeOverGrpc
    this.#functions = functions
    this.#hosts = hosts
    this.#options = options
    this.queue = new CallQueue(
      { maxPerFunction: options.maxQueuedPerFunction, retryAfterMs: 100 },
      (fn, exclude) => this.#place(fn, exclude),
      this.#clock,
    )
    const holdMs = options.startupHoldMs ?? 3000
    this.#holdUntilMs = this.#clock.now() + holdMs
    // At the end of the hold, calls still waiting for a first host fail with why.
    this.#holdTimer = this.#clock.setTimeout(() => this.#endHold(), holdMs)
    const pump = (): void => this.queue.pump()
    hosts.on('added', () => {
      this.#endHold()
      pump()
    })
    hosts.on('status', pump)
    hosts.on('removed', pump)
  }

  #endHold(): void {
    if (this.#holdTimer === undefined) return
    this.#clock.clearTimeout(this.#holdTimer)
    this.#holdTimer = undefined
    this.#holdUntilMs = 0
    this.queue.pump()
  }

  #place(fn: FunctionRecord, exclude: ReadonlySet<string>): Slot | undefined {
    const hosts = this.#hosts.list()
    // Just started, and no host has registered yet: hold the call for one.
    if (hosts.length === 0 && this.#clock.now() < this.#holdUntilMs) return undefined
    const limits = { maxInstancesPerFunction: this.#options.maxInstancesPerFunction }
    const host = pickHost(hosts, fn, limits, exclude)
    return host ? { host, release: reserve(host, fn.version) } : undefined
  }

  /** Calls between arrival and answer. */
  get inFlight(): number {
    return this.#inFlight
  }

  /**
   * Stops taking calls: new ones, and those still waiting in the queue, are
   * refused as never started (CLOSED, `started = 'never'`: a client may send
   * them again, to this controller once it is back or another); calls on
   * hosts carry on. Idempotent.
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#clock.clearTimeout(this.#holdTimer)
    this.#holdTimer = undefined
    this.queue.close(notStarted('CLOSED', 'the controller is shutting down; the call did not start'))
  }

  /** Resolves once no call is in flight, or after `maxMs`. */
  idle(maxMs: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(resolve, maxMs)
      this.#idle.push(() => {
        this.#clock.clearTimeout(timer)
        resolve()
      })
    })
  }

  async call(name: string, args: string[], options: CallOptions = {}): Promise<CallResponse> {
    if (this.#closed) throw notStarted('CLOSED', 'the controller is shutting down; the call did not start')
    const started = performance.now()
    let queuedMs = 0
    this.#inFlight++
    try {
      const fn = this.#functions.get(name)
      checkArguments(name, fn.params, args, this.#options.maxArgumentBytes)
      const callId = options.callId || randomUUID()
      const callerDeadlineMs = options.deadlineMs ?? Number.POSITIVE_INFINITY
      // The function's own wall-clock limit when it was deployed with one, else the platform's.
      const ownLimitMs = fn.limits.timeoutMs || this.#options.callTimeoutMs
      const deadlineMs = Math.min(callerDeadlineMs, this.#clock.now() + ownLimitMs)
      const tried = new Set<string>()
      for (;;) {
        const slot = await this.queue.acquire(fn, tried, deadlineMs, options.signal)
        queuedMs += slot.waitedMs ?? 0
        const routedMs = performance.now() - started - queuedMs
        // The slot is given back once the host is no longer working on the call (not when the
        // caller is answered: a cancelled call's work may still be stopping).
        const done = (): void => {
          slot.release()
          this.queue.pump()
        }
        try {
          const response = await this.#call(slot.host, fn, args, callId, callerDeadlineMs, options.signal, done)
          response.queuedUs = Math.round(queuedMs * 1000)
          response.routeUs = Math.round(routedMs * 1000)
          response.totalUs = Math.round((performance.now() - started) * 1000)
          this.#observe?.({ name, outcome: 'OK', durationMs: performance.now() - started, queuedMs, response })
          return response
        } catch (error) {
          if (!(error instanceof OsirisError) || error.started !== 'never' || options.signal?.aborted) throw error
          tried.add(slot.host.id)
          if (tried.size >= MAX_ATTEMPTS) throw error
        }
      }
    } catch (error) {
      const outcome = error instanceof OsirisError ? error.code : 'INTERNAL'
      const message = error instanceof Error ? error.message : String(error)
      const record: CallRecord = { name, outcome, message, durationMs: performance.now() - started, queuedMs }
      if (error instanceof OsirisError && error.breach !== undefined) record.breach = error.breach
      this.#observe?.(record)
      throw error
    } finally {
      if (--this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve()
    }
  }

  async #call(
    host: HostEntry,
    fn: FunctionRecord,
    args: string[],
    callId: string,
    callerDeadlineMs: number,
    signal: AbortSignal | undefined,
    done: () => void,
  ): Promise<CallResponse> {
    // The host stops the call a little before the caller's deadline, so the
    // caller hears DEADLINE_EXCEEDED from us rather than cancelling blind.
    const remainingMs = callerDeadlineMs - this.#clock.now()
    const callerMs = Math.max(1, remainingMs - Math.min(DEADLINE_MARGIN_MS, remainingMs / 10))
    // The function's own limit (else the platform's) is sent as a limit, whole, so the host
    // reports a breach of it in the user's units ("its 2000 ms timeout"); the caller's
    // deadline goes as timeoutMs only when it is the sooner (0: none sooner).
    const limitMs = Math.min(fn.limits.timeoutMs || this.#options.callTimeoutMs, LIMIT_BOUNDS.timeoutMs.max)
    const callerBinds = callerMs < limitMs
    const timeoutMs = callerBinds ? Math.min(Math.floor(callerMs), 2 ** 31 - 1) : 0
    const request: InvokeRequest = {
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
    const answerMs = (callerBinds ? timeoutMs : limitMs) + ANSWER_SLACK_MS
    const response = await this.#invoke(host, request, { timeoutMs: answerMs, signal, done })
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
  }
}
