// The controller's time source: wall-clock reads and timers behind one
// interface, so the call path's algorithms (queue deadlines, start-up hold,
// release of stopped calls) run in tests on a clock the test moves by hand.

/** A timer started by a Clock; pass it back to `clearTimeout`. */
export type TimerHandle = { readonly id: unknown }

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Runs `fn` once after `ms` (not keeping the process alive). */
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle | undefined): void
}

/** The real clock: Date.now and unreferenced Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1)))
    timer.unref()
    return { id: timer }
  },
  clearTimeout(handle) {
    if (handle) clearTimeout(handle.id as NodeJS.Timeout)
  },
}
