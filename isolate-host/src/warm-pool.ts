// The warm pool: generic isolates made ahead of time so that a function's
// first call on this host only pays for specialization. Refilled in the
// background, one isolate per event-loop turn. Making an isolate blocks the
// thread for about a millisecond, so refills wait while calls are in flight
// (up to `maxDeferMs`, so a host under steady load still refills).
import { OsirisError } from '@osiris/proto'
import { GenericIsolate } from './generic-isolate.ts'

export interface WarmPoolOptions {
  /** Generic isolates to keep ready. */
  target: number
  /** Heap limit of each isolate, in MiB. */
  memoryLimitMb: number
  /** Called whenever the number of ready isolates changes. */
  onChange?: () => void
  /** True while calls are in flight: refills wait for idle() or maxDeferMs. */
  busy?: () => boolean
  /** Longest a refill waits for the host to go idle, ms. Default 20. */
  maxDeferMs?: number
}

export class WarmPool {
  readonly #ready: GenericIsolate[] = []
  readonly #options: WarmPoolOptions
  #refilling: NodeJS.Immediate | undefined
  #deferred: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: WarmPoolOptions) {
    this.#options = options
    this.#scheduleRefill()
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
  take(): { generic: GenericIsolate; pooled: boolean } {
    if (this.#closed) throw new OsirisError('CLOSED', 'the warm pool is closed')
    const generic = this.#ready.pop()
    this.#scheduleRefill()
    if (generic) {
      this.#options.onChange?.()
      return { generic, pooled: true }
    }
    return { generic: new GenericIsolate(this.#options.memoryLimitMb), pooled: false }
  }

  /** Resolves once the pool holds its target (tests and start-up readiness). */
  async filled(): Promise<void> {
    while (!this.#closed && this.#ready.length < this.#options.target) {
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  #scheduleRefill(): void {
    if (this.#closed || this.#refilling || this.#deferred || this.#ready.length >= this.#options.target) return
    this.#refilling = setImmediate(() => {
      this.#refilling = undefined
      if (this.#options.busy?.()) {
        this.#deferred = setTimeout(() => this.#refillNow(), this.#options.maxDeferMs ?? 20)
        return
      }
      this.#refillNow()
    })
  }

  #refillNow(): void {
    clearTimeout(this.#deferred)
    this.#deferred = undefined
    if (this.#closed || this.#ready.length >= this.#options.target) return
    this.#ready.push(new GenericIsolate(this.#options.memoryLimitMb))
    this.#options.onChange?.()
    this.#scheduleRefill()
  }

  /** The host has no calls in flight: a deferred refill may go once the answer is out. */
  idle(): void {
    if (!this.#deferred) return
    clearTimeout(this.#deferred)
    this.#deferred = undefined
    this.#scheduleRefill()
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#refilling) clearImmediate(this.#refilling)
    clearTimeout(this.#deferred)
    for (const generic of this.#ready.splice(0)) generic.dispose()
  }
}
