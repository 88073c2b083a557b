// The real timers behind one call's setTimeout/setInterval. The runtime asks
// (schedule/cancel, fire-and-forget) and this keeps at most `maxTimers`
// pending; a request for another call (a stale `seq`) or after the call ended
// is ignored, so no timer outlives its call.
import type { TimerSink } from './generic-isolate.ts'

export class CallTimers implements TimerSink {
  readonly #seq: number
  readonly #maxTimers: number
  readonly #run: (id: number) => void
  readonly #pending = new Map<number, NodeJS.Timeout>()
  #closed = false

  constructor(seq: number, maxTimers: number, run: (id: number) => void) {
    this.#seq = seq
    this.#maxTimers = maxTimers
    this.#run = run
  }

  get pending(): number {
    return this.#pending.size
  }

  schedule(seq: number, id: number, delayMs: number): void {
    if (this.#closed || seq !== this.#seq || id < 0) return
    clearTimeout(this.#pending.get(id))
    this.#pending.delete(id)
    if (this.#pending.size >= this.#maxTimers) return
    const handle = setTimeout(
      () => {
        this.#pending.delete(id)
        if (!this.#closed) this.#run(id)
      },
      Math.max(0, delayMs),
    )
    this.#pending.set(id, handle)
  }

  cancel(seq: number, id: number): void {
    if (seq !== this.#seq) return
    clearTimeout(this.#pending.get(id))
    this.#pending.delete(id)
  }

  close(): void {
    this.#closed = true
    for (const handle of this.#pending.values()) clearTimeout(handle)
    this.#pending.clear()
  }
}
