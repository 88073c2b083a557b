// Watches one call's wall-clock and CPU time. The wall-clock timer covers
// everything the call does (awaited promises, timers); CPU time is the
// isolate's own (isolate.cpuTime), checked when it could first have run out:
// CPU cannot pass faster than real time, so after `cpuMs` of real time, then
// after whatever CPU budget was left, and so on. A breach calls `stop`, which
// disposes the isolate: that, not a flag, is what ends the work.
import type ivm from 'isolated-vm'

export type Breach = 'timeout' | 'cpu' | 'memory'

export class CallGuard {
  readonly #isolate: ivm.Isolate
  readonly #cpuMs: number
  readonly #cpuStart: bigint
  readonly #deadline: number
  readonly #stop: () => void
  readonly #wall: NodeJS.Timeout
  #cpuTimer: NodeJS.Timeout | undefined
  #breach: Breach | undefined
  #done = false

  constructor(isolate: ivm.Isolate, timeoutMs: number, cpuMs: number, stop: () => void) {
    this.#isolate = isolate
    this.#cpuMs = cpuMs
    this.#stop = stop
    this.#cpuStart = isolate.cpuTime
    this.#deadline = performance.now() + timeoutMs
    this.#wall = setTimeout(() => this.trip('timeout'), timeoutMs)
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

  /** Records the first breach and stops the call. */
  trip(breach: Breach): void {
    if (this.#done) return
    this.#breach ??= breach
    this.#stop()
  }

  /** The call is over: no more checks. A CPU overrun found now still counts. */
  end(): void {
    if (this.#done) return
    if (this.#breach === undefined && this.cpuUsedMs() > this.#cpuMs) this.trip('cpu')
    this.#done = true
    clearTimeout(this.#wall)
    clearTimeout(this.#cpuTimer)
  }
}
