// Watches one call's wall-clock and CPU time. The wall-clock timer covers
// everything the call does (awaited promises, timers); CPU time is the
// isolate's own (isolate.cpuTime), checked when it could first have run out:
// CPU cannot pass faster than real time, so after `cpuMs` of real time, then
// after whatever CPU budget was left, and so on. A breach calls `stop`, which
// disposes the isolate: that, not a flag, is what ends the work. `stopped`
// rejects at once, because a V8 builtin that cannot be interrupted (a fill of
// a huge array) keeps the isolate's thread until it returns: the call is
// answered now, the thread is freed later.
import type ivm from 'isolated-vm'

export type Breach = 'timeout' | 'cpu' | 'memory'

const DISPOSED_POLL_MS = 50

export class CallGuard {
  readonly #isolate: ivm.Isolate
  readonly #cpuMs: number
  readonly #cpuStart: bigint
  readonly #deadline: number
  readonly #stop: () => void
  readonly #stoppedByHost: () => boolean
  readonly #wall: NodeJS.Timeout
  readonly #poll: NodeJS.Timeout
  #cpuTimer: NodeJS.Timeout | undefined
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
    const { timeoutMs, cpuMs } = limits
    this.#isolate = isolate
    this.#cpuMs = cpuMs
    this.#stop = stop
    this.#stoppedByHost = stoppedByHost
    this.stopped = new Promise<never>((_, reject) => {
      this.#reject = reject
    })
    this.stopped.catch(() => {})
    this.#cpuStart = isolate.cpuTime
    this.#deadline = performance.now() + timeoutMs
    this.#wall = setTimeout(() => this.trip('timeout'), timeoutMs)
    // isolated-vm disposes an isolate past its memory limit at once, but the
    // call's promise only settles when the isolate's thread comes back.
    this.#poll = setInterval(() => {
      if (this.#outOfMemory()) this.trip('memory')
    }, DISPOSED_POLL_MS)
    if (cpuMs < timeoutMs) this.#watchCpu(cpuMs)
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

  #watchCpu(afterMs: number): void {
    this.#cpuTimer = setTimeout(() => {
      const left = this.#cpuMs - this.cpuUsedMs()
      if (left <= 0) this.trip('cpu')
      else this.#watchCpu(Math.max(1, Math.ceil(left)))
    }, afterMs)
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
    clearTimeout(this.#wall)
    clearTimeout(this.#cpuTimer)
    clearInterval(this.#poll)
  }
}
