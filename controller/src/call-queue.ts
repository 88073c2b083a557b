// Calls waiting for a free instance: a bounded FIFO per function, served
// round-robin across functions so one hot function cannot starve the rest.
// Each waiter honours its caller's deadline and AbortSignal; past the bound a
// call is refused at once with RESOURCE_EXHAUSTED and a retry hint.
import { OsirisError } from '@osiris/proto'
import { type Clock, systemClock } from './clock.ts'
import type { HostEntry } from './host-registry.ts'
import type { FunctionRecord } from './store/store.ts'

export interface Slot {
  host: HostEntry
  release: () => void
  /** How long the call waited in the queue for this slot, ms (0 when placed at once). */
  waitedMs?: number
}

/** Tries to place a call now; undefined when every able host is full. Throws when none can ever run it. */
export type Placer = (fn: FunctionRecord, exclude: ReadonlySet<string>) => Slot | undefined

/** Most time a queued call's answer is sent ahead of its deadline, ms. */
const DEADLINE_MARGIN_MS = 50

interface Waiter {
  fn: FunctionRecord
  exclude: ReadonlySet<string>
  enqueuedMs: number
  settle: (slot: Slot | Error) => void
}

export interface CallQueueOptions {
  /** Most calls waiting per function. */
  maxPerFunction: number
  /** Suggested wait before retrying a refused call, ms. */
  retryAfterMs: number
}

export class CallQueue {
  readonly #options: CallQueueOptions
  readonly #place: Placer
  /** Waiting calls per function name, oldest first; Map order is the round-robin order. */
  readonly #waiting = new Map<string, Waiter[]>()
  readonly #clock: Clock

  constructor(options: CallQueueOptions, place: Placer, clock: Clock = systemClock) {
    this.#options = options
    this.#place = place
    this.#clock = clock
  }

  get size(): number {
    let n = 0
    for (const list of this.#waiting.values()) n += list.length
    return n
  }

  /** A slot for `fn`: at once when a host has room and nobody waits ahead, else when one frees. */
  acquire(fn: FunctionRecord, exclude: ReadonlySet<string>, deadlineMs: number, signal?: AbortSignal): Promise<Slot> {
    const queue = this.#waiting.get(fn.name) ?? []
    if (queue.length === 0) {
      const slot = this.#place(fn, exclude)
      if (slot) return Promise.resolve(slot)
    }
    if (queue.length >= this.#options.maxPerFunction) {
      const error = new OsirisError(
        'RESOURCE_EXHAUSTED',
        `function "${fn.name}" has ${queue.length} calls waiting for an instance, the most allowed; retry in ${this.#options.retryAfterMs} ms`,
      )
      error.retryAfterMs = this.#options.retryAfterMs
      return Promise.reject(error)
    }
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = {
        fn,
        exclude,
        enqueuedMs: this.#clock.now(),
        settle: (outcome) => {
          this.#clock.clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          if (outcome instanceof Error) reject(outcome)
          else resolve(outcome)
        },
      }
      const drop = (error: OsirisError): void => {
        const list = this.#waiting.get(fn.name)
        const at = list?.indexOf(waiter) ?? -1
        if (list && at >= 0) {
          list.splice(at, 1)
          if (list.length === 0) this.#waiting.delete(fn.name)
          waiter.settle(error)
        }
      }
      // Answer a little before the caller's deadline, so the reason reaches it
      // before its own timer fires with a bare "deadline exceeded".
      const waitMs = deadlineMs - this.#clock.now()
      const answerMs = waitMs - Math.min(DEADLINE_MARGIN_MS, waitMs / 10)
      const timer = this.#clock.setTimeout(
        () =>
          drop(
            new OsirisError(
              'DEADLINE_EXCEEDED',
              `call of "${fn.name}" waited ${this.#clock.now() - waiter.enqueuedMs} ms for a free instance and reached its deadline`,
            ),
          ),
        Math.max(0, answerMs),
      )
      const onAbort = (): void => drop(new OsirisError('CANCELLED', `call of "${fn.name}" was cancelled while queued`))
      signal?.addEventListener('abort', onAbort, { once: true })
      queue.push(waiter)
      this.#waiting.set(fn.name, queue)
    })
  }

  /** Places waiting calls while hosts have room: one per function per round, until a round places none. */
  pump(): void {
    let placed = true
    while (placed && this.#waiting.size > 0) {
      placed = false
      for (const [name, list] of [...this.#waiting]) {
        const head = list[0]
        if (!head) continue
        let slot: Slot | undefined
        try {
          slot = this.#place(head.fn, head.exclude)
        } catch (error) {
          // No host can run it any more (all gone): fail every waiter of this function.
          this.#waiting.delete(name)
          for (const waiter of list) waiter.settle(error as Error)
          continue
        }
        if (!slot) continue
        list.shift()
        // Move the function to the back of the round-robin order.
        this.#waiting.delete(name)
        if (list.length > 0) this.#waiting.set(name, list)
        head.settle({ ...slot, waitedMs: this.#clock.now() - head.enqueuedMs })
        placed = true
      }
    }
  }

  /** Fails every waiting call (controller shutdown). */
  close(error: Error): void {
    for (const list of this.#waiting.values()) for (const waiter of list) waiter.settle(error)
    this.#waiting.clear()
  }
}
