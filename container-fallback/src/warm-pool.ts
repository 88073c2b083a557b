// Generic containers of one runtime, started ahead of need: a function's first
// call takes one and loads its code instead of paying for a container start.
// Refills run in the background, one container at a time; a failed start
// stops refilling until the next take (an image that is missing stays missing).
import type { RuntimeContainer } from './container.ts'

export interface PoolOptions {
  runtime: string
  target: number
  start: () => Promise<RuntimeContainer>
  /** Whether one more container may start now (the executor's container cap). */
  hasRoom: () => boolean
  onChange: () => void
  onError: (error: Error) => void
}

export class ContainerPool {
  readonly runtime: string
  readonly target: number
  readonly #options: PoolOptions
  readonly #ready: RuntimeContainer[] = []
  #starting = 0
  #startingNow: Promise<unknown> = Promise.resolve()
  #failed = false
  #closed = false
  lastError: Error | undefined

  constructor(options: PoolOptions) {
    this.runtime = options.runtime
    this.target = options.target
    this.#options = options
  }

  get size(): number {
    return this.#ready.length
  }

  /** Containers counted against the cap: ready plus starting. */
  get held(): number {
    return this.#ready.length + this.#starting
  }

  /** A ready generic container, or undefined when none is. */
  take(): RuntimeContainer | undefined {
    const container = this.#ready.shift()
    this.#failed = false
    this.refill()
    if (container) this.#options.onChange()
    return container
  }

  /** Returns a container that is still generic (it only checked a module). */
  give(container: RuntimeContainer): void {
    if (this.#closed || container.state !== 'generic' || this.#ready.length >= this.target) {
      void container.remove()
      return
    }
    container.busy = false
    this.#keep(container)
  }

  #keep(container: RuntimeContainer): void {
    // Killed while waiting here: leave the pool and make way for a new one.
    container.onGone = () => this.drop(container)
    this.#ready.push(container)
    this.#options.onChange()
  }

  /** Drops a container that died while waiting in the pool. */
  drop(container: RuntimeContainer): void {
    const i = this.#ready.indexOf(container)
    if (i >= 0) this.#ready.splice(i, 1)
    void container.remove()
    this.refill()
  }

  refill(): void {
    if (this.#closed || this.#failed || this.#starting > 0) return
    if (this.#ready.length >= this.target || !this.#options.hasRoom()) return
    this.#starting++
    this.#startingNow = this.#options
      .start()
      .then((container) => {
        if (this.#closed) return container.remove()
        this.lastError = undefined
        this.#keep(container)
      })
      .catch((error: unknown) => {
        this.#failed = true
        this.lastError = error instanceof Error ? error : new Error(String(error))
        this.#options.onError(this.lastError)
      })
      .finally(() => {
        this.#starting--
        if (!this.#failed) this.refill()
      })
  }

  /** Removes the ready containers, and the one starting once it has. */
  async close(): Promise<void> {
    this.#closed = true
    const ready = this.#ready.splice(0)
    await Promise.all([...ready.map((c) => c.remove()), this.#startingNow])
  }
}
