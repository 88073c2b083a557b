// The warm pool: generic isolates made ahead of time so that a function's
// first call on this host only pays for specialization. Refills stay off the
// hot path: one isolate at a time, made with isolated-vm's async calls (only
// `new Isolate`, about 1 ms, runs on the event loop), and only once no call
// has been in flight for `quietMs`, so the answer of the call that took an
// isolate is written and on its way first (gRPC writes its trailers an
// event-loop turn after the answer). A host that never goes quiet still
// refills, `maxDeferMs` after the pool fell short.
import { OsirisError } from '@osiris/proto'
import { GenericIsolate } from './generic-isolate.ts'

export interface WarmPoolOptions {
  /** Generic isolates to keep ready. */
  target: number
  /** Heap limit of each isolate, in MiB. */
  memoryLimitMb: number
  /** Called whenever the number of ready isolates changes. */
  onChange?: () => void
  /** True while calls are in flight: refills wait for idle() (then `quietMs`) or `maxDeferMs`. */
  busy?: () => boolean
  /** Time with no call in flight a refill waits for, ms. Default 2. */
  quietMs?: number
  /** Longest a refill waits for the host to go quiet, ms. Default 20. */
  maxDeferMs?: number
}

/** Wait before trying again after an isolate could not be made, ms. */
const RETRY_MS = 1000

export class WarmPool {
  readonly #ready: GenericIsolate[] = []
  readonly #options: WarmPoolOptions
  readonly #quietMs: number
  readonly #maxDeferMs: number
  /** Resolved whenever the pool grows or closes (for filled()). */
  readonly #waiters = new Set<() => void>()
  #timer: NodeJS.Timeout | undefined
  /** The isolate being made, settled once it is in the pool (or disposed); undefined when none is. */
  #making: Promise<void> | undefined
  /** When the pool fell short (performance.now()), for maxDeferMs; 0 when it is not waiting. */
  #shortSince = 0
  /** When the host last went idle (performance.now()). */
  #idleSince = Number.NEGATIVE_INFINITY
  #closed = false

  constructor(options: WarmPoolOptions) {
    this.#options = options
    this.#quietMs = options.quietMs ?? 2
    this.#maxDeferMs = options.maxDeferMs ?? 20
    this.#schedule()
  }

  get size(): number {
    return this.#ready.length
  }

  get target(): number {
    return this.#options.target
  }

  /**
   * A generic isolate, from the pool when one is ready (`pooled: true`), else
   * made on the spot.
   */
  async take(): Promise<{ generic: GenericIsolate; pooled: boolean }> {
    if (this.#closed) throw new OsirisError('CLOSED', 'the warm pool is closed')
    const generic = this.#ready.pop()
    this.#schedule()
    if (generic) {
      this.#options.onChange?.()
      return { generic, pooled: true }
    }
    return { generic: await GenericIsolate.create(this.#options.memoryLimitMb), pooled: false }
  }

  /** Resolves once the pool holds its target (tests and start-up readiness). */
  async filled(): Promise<void> {
    while (!this.#closed && this.#ready.length < this.#options.target) {
      await new Promise<void>((resolve) => this.#waiters.add(resolve))
    }
  }

  /** The host has no calls in flight: a waiting refill goes once it has stayed so for `quietMs`. */
  idle(): void {
    this.#idleSince = performance.now()
    if (!this.#timer) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#schedule()
  }

  /** Arms the refill timer when the pool is short and nothing is armed or being made. */
  #schedule(): void {
    if (this.#closed || this.#making || this.#timer || this.#ready.length >= this.#options.target) return
    if (this.#shortSince === 0) this.#shortSince = performance.now()
    this.#timer = setTimeout(() => this.#tick(), this.#waitMs())
  }

  /** How long the next refill still waits: for quiet, or for maxDeferMs while busy. */
  #waitMs(): number {
    const now = performance.now()
    if (this.#options.busy?.()) return Math.max(0, this.#maxDeferMs - (now - this.#shortSince))
    return Math.max(0, this.#quietMs - (now - this.#idleSince))
  }

  #tick(): void {
    this.#timer = undefined
    const waitMs = this.#waitMs()
    if (waitMs > 0) {
      this.#schedule()
      return
    }
    if (this.#closed || this.#ready.length >= this.#options.target) return
    this.#making = this.#refill()
  }

  async #refill(): Promise<void> {
    this.#shortSince = 0
    let retryMs = 0
    try {
      const generic = await GenericIsolate.create(this.#options.memoryLimitMb)
      if (this.#closed) generic.dispose()
      else {
        this.#ready.push(generic)
        this.#options.onChange?.()
      }
    } catch {
      // Out of memory, most likely: the pool stays short for now and calls make isolates on the spot.
      retryMs = RETRY_MS
    } finally {
      this.#making = undefined
      for (const resolve of this.#waiters) resolve()
      this.#waiters.clear()
    }
    if (retryMs > 0 && !this.#closed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        this.#schedule()
      }, retryMs)
      this.#timer.unref()
    } else this.#schedule()
  }

  /**
   * Disposes the ready isolates; resolves once the one being made, if any, is
   * disposed too, so no isolate thread is left working when the process ends
   * (isolated-vm's teardown can abort the process then).
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (const generic of this.#ready.splice(0)) generic.dispose()
    for (const resolve of this.#waiters) resolve()
    this.#waiters.clear()
    await this.#making
  }
}
