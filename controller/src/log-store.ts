// Recent console output of each function, as hosts forward it: a bounded ring
// per function name (in lines and in bytes), a bound in bytes over all of
// them, and live subscribers for `osiris logs -f`.
import type { LogLine } from '@osiris/proto'

type Listener = (line: LogLine) => void

export interface LogStoreLimits {
  /** Most lines kept per function. */
  perFunctionLines: number
  /** Most bytes (UTF-8 of the text plus its fields) kept per function. */
  perFunctionBytes: number
  /** Most bytes kept over every function; past it, the oldest lines of the largest function go first. */
  totalBytes: number
}

/** Defaults: 1,000 lines and 1 MiB per function, 64 MiB in all. */
export const DEFAULT_LOG_STORE_LIMITS: Readonly<LogStoreLimits> = Object.freeze({
  perFunctionLines: 1000,
  perFunctionBytes: 1024 * 1024,
  totalBytes: 64 * 1024 * 1024,
})

/** What a stored line costs: its text in UTF-8 plus its fields, near enough. */
function sizeOf(line: LogLine): number {
  return Buffer.byteLength(line.line) + line.functionName.length + line.module.length + line.callId.length + 64
}

interface Ring {
  lines: LogLine[]
  bytes: number
}

export class LogStore {
  readonly #limits: Readonly<LogStoreLimits>
  readonly #rings = new Map<string, Ring>()
  readonly #listeners = new Map<string, Set<Listener>>()
  #bytes = 0

  constructor(limits: Partial<LogStoreLimits> = {}) {
    this.#limits = { ...DEFAULT_LOG_STORE_LIMITS, ...limits }
  }

  /** Bytes held over every function (for tests and metrics). */
  get bytes(): number {
    return this.#bytes
  }

  append(line: LogLine): void {
    const name = line.functionName
    const ring = this.#rings.get(name) ?? { lines: [], bytes: 0 }
    this.#rings.set(name, ring)
    const size = sizeOf(line)
    ring.lines.push(line)
    ring.bytes += size
    this.#bytes += size
    const { perFunctionLines, perFunctionBytes, totalBytes } = this.#limits
    while (ring.lines.length > perFunctionLines || (ring.bytes > perFunctionBytes && ring.lines.length > 1)) {
      this.#dropOldest(ring)
    }
    while (this.#bytes > totalBytes) {
      let largest: Ring | undefined
      for (const r of this.#rings.values()) if (!largest || r.bytes > largest.bytes) largest = r
      if (!largest || largest.lines.length === 0) break
      this.#dropOldest(largest)
    }
    for (const listener of this.#listeners.get(name) ?? []) listener(line)
  }

  #dropOldest(ring: Ring): void {
    const dropped = ring.lines.shift()
    if (!dropped) return
    const size = sizeOf(dropped)
    ring.bytes -= size
    this.#bytes -= size
  }

  /** The last `limit` lines of `name`, oldest first. */
  recent(name: string, limit: number): LogLine[] {
    return (this.#rings.get(name)?.lines ?? []).slice(-limit)
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
    if (this.#listeners.has(name)) return
    const ring = this.#rings.get(name)
    if (ring) this.#bytes -= ring.bytes
    this.#rings.delete(name)
  }
}
