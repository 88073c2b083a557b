// Recent console output of each function, as hosts forward it: a bounded ring
// per function name, and live subscribers for `osiris logs -f`.
import type { LogLine } from '@osiris/proto'

type Listener = (line: LogLine) => void

export class LogStore {
  readonly #perFunction: number
  readonly #lines = new Map<string, LogLine[]>()
  readonly #listeners = new Map<string, Set<Listener>>()

  /** Keeps the last `perFunction` lines of each function. */
  constructor(perFunction: number) {
    this.#perFunction = perFunction
  }

  append(line: LogLine): void {
    const name = line.functionName
    const lines = this.#lines.get(name) ?? []
    lines.push(line)
    if (lines.length > this.#perFunction) lines.splice(0, lines.length - this.#perFunction)
    this.#lines.set(name, lines)
    for (const listener of this.#listeners.get(name) ?? []) listener(line)
  }

  /** The last `limit` lines of `name`, oldest first. */
  recent(name: string, limit: number): LogLine[] {
    return (this.#lines.get(name) ?? []).slice(-limit)
  }

  /** Calls `listener` with each new line of `name`; returns the unsubscribe function. */
  follow(name: string, listener: Listener): () => void {
    const set = this.#listeners.get(name) ?? new Set()
    set.add(listener)
    this.#listeners.set(name, set)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.#listeners.delete(name)
    }
  }

  /** Forgets a removed function's lines once nobody follows them. */
  drop(name: string): void {
    if (!this.#listeners.has(name)) this.#lines.delete(name)
  }
}
