// Watches one call's wall-clock and CPU time, and notices when isolated-vm
// disposed the isolate for its memory limit. One shared watchdog tick (every
// TICK_MS, running only while calls are in flight) checks every call in
// flight: a timer per call costs more than the whole rest of a warm call.
// isolated-vm's own `timeout` still stops synchronous code on time; the tick
// covers awaited work, timers and fetches, within TICK_MS of the limit. A
// breach calls `stop`, which disposes the isolate: that, not a flag, is what
// ends the work. `stopped` rejects at once, because a V8 builtin that cannot
// be interrupted (a fill of a huge array) keeps the isolate's thread until it
// returns: the call is answered now, the thread is freed later.
import type ivm from 'isolated-vm'

export type Breach = 'timeout' | 'cpu' | 'memory'

const TICK_MS = 10
const watched = new Set<CallGuard>()
let ticker: NodeJS.Timeout | undefined

function tick(): void {
  if (watched.size === 0) {
    clearInterval(ticker)
    ticker = undefined
    return
  }
  const now = performance.now()
  for (const guard of watched) guard.check(now)
}

export class CallGuard {
  readonly #isolate: ivm.Isolate
  readonly #cpuMs: number
  readonly #cpuStart: bigint
  readonly #deadline: number
  readonly #stop: () => void
  readonly #stoppedByHost: () => boolean
  #breach: Breach | undefined
  #done = false
  #reject: (error: Error) => void = () => {}
  /** Rejects when the call is stopped for a breach. */
  readonly stopped: Promise<never>

  /**
   * `stop` disposes the isolate; `stoppedByHost` says whether the host
   * disposed it (else isolated-vm did, for its memory limit).
   */
  constructor(
    isolate: ivm.Isolate,
    limits: { timeoutMs: number; cpuMs: number },
    stop: () => void,
    stoppedByHost: () => boolean,
  ) {
    this.#isolate = isolate
    this.#cpuMs = limits.cpuMs
    this.#stop = stop
    this.#stoppedByHost = stoppedByHost
    this.stopped = new Promise<never>((_, reject) => {
      this.#reject = reject
    })
    this.stopped.catch(() => {})
    this.#cpuStart = isolate.cpuTime
    this.#deadline = performance.now() + limits.timeoutMs
    watched.add(this)
    ticker ??= setInterval(tick, TICK_MS)
  }

  get breach(): Breach | undefined {
    return this.#breach
  }

  /** Wall-clock time left, ms (at least 1, for isolated-vm's own timeouts). */
  get remainingMs(): number {
    return Math.max(1, Math.ceil(this.#deadline - performance.now()))
  }

  cpuUsedMs(): number {
    try {
      return Number(this.#isolate.cpuTime - this.#cpuStart) / 1e6
    } catch {
      return 0
    }
  }

  /** One watchdog look at this call. */
  check(now: number): void {
    const breach = this.observed(now)
    if (breach !== undefined) this.trip(breach)
  }

  /**
   * The limit the host sees this call past, from its own observations only:
   * the isolate disposed by isolated-vm (its heap limit: the host did not
   * dispose it), the guard's own clock, the isolate's CPU time. Never from an
   * error's text, which tenant code can write.
   */
  observed(now = performance.now()): Breach | undefined {
    if (this.#outOfMemory()) return 'memory'
    if (now >= this.#deadline) return 'timeout'
    if (this.cpuUsedMs() > this.#cpuMs) return 'cpu'
    return undefined
  }

  /**
   * Ends the call for a failure that is no limit: the runtime's timer or fetch
   * entry point threw (tenant code broke something it relies on). `stopped`
   * rejects with `error`; the instance is disposed like after a breach.
   */
  fail(error: unknown): void {
    if (this.#done || this.#breach !== undefined) return
    this.#stop()
    this.#reject(error instanceof Error ? error : new Error(String(error)))
  }

  #outOfMemory(): boolean {
    return this.#isolate.isDisposed && !this.#stoppedByHost()
  }

  /**
   * Records the first breach and stops the call. An isolate already disposed
   * when the clock runs out was disposed by isolated-vm for its memory limit,
   * while stuck in a builtin that does not notice termination.
   */
  trip(breach: Breach): void {
    if (this.#done) return
    this.#breach ??= breach === 'timeout' && this.#outOfMemory() ? 'memory' : breach
    this.#stop()
    this.#reject(new Error(`the call was stopped: ${this.#breach}`))
  }

  /** The call is over: no more checks. A CPU overrun found now still counts. */
  end(): void {
    if (this.#done) return
    if (this.#breach === undefined && this.cpuUsedMs() > this.#cpuMs) this.trip('cpu')
    this.#done = true
    watched.delete(this)
  }
}
