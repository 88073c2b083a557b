// The one real timer behind a call's setTimeout/setInterval. The runtime
// keeps the call's timers and says when its earliest deadline moves earlier
// (schedule, fire-and-forget); this arms a single host timer for that moment
// and, when it goes off, has the runtime run what is due (`run`, answering the
// next deadline or -1). A request for another call (a stale `seq`) or after
// the call ended is ignored, so no timer outlives its call.
import type { TimerSink } from './generic-isolate.ts'

export class CallTimers implements TimerSink {
  readonly #seq: number
  readonly #run: () => Promise<number>
  #handle: NodeJS.Timeout | undefined
  /** When the armed timer goes off (Date.now() time), or -1. */
  #at = -1
  #closed = false

  constructor(seq: number, run: () => Promise<number>) {
    this.#seq = seq
    this.#run = run
  }

  schedule(seq: number, atMs: number): void {
    if (seq !== this.#seq) return
    this.#arm(atMs)
  }

  #arm(atMs: number): void {
    if (this.#closed || atMs < 0 || (this.#at >= 0 && this.#at <= atMs)) return
    clearTimeout(this.#handle)
    this.#at = atMs
    this.#handle = setTimeout(() => this.#fire(), Math.max(0, atMs - Date.now()))
  }

  #fire(): void {
    this.#at = -1
    this.#handle = undefined
    if (this.#closed) return
    this.#run().then(
      (next) => this.#arm(next),
      () => {},
    )
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#handle)
    this.#handle = undefined
  }
}
