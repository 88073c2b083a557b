// A side-effect counter for at-most-once tests: a loopback HTTP server that
// functions call with their call's unique id, at the start of their work and
// at its end. A count above one for an id is a call that ran twice.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

interface Teardown {
  teardown(fn: () => unknown): void
}

export class SideEffects {
  readonly starts = new Map<string, number>()
  readonly ends = new Map<string, number>()
  port = 0

  /** Starts the counter on 127.0.0.1 (a free port); closed on teardown. */
  static async start(t: Teardown): Promise<SideEffects> {
    let effects: SideEffects | undefined
    const server = createServer((req, res) => {
      const m = /^\/(start|end)\/([^/?]+)$/.exec(req.url ?? '')
      if (m?.[1] && m[2] && effects) {
        const counts = m[1] === 'start' ? effects.starts : effects.ends
        counts.set(m[2], (counts.get(m[2]) ?? 0) + 1)
      }
      res.end('ok')
    })
    effects = new SideEffects()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    effects.port = (server.address() as AddressInfo).port
    server.unref()
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
    return effects
  }

  /**
   * Source of `effect(id, ms)`: records its start, holds its instance for
   * `ms` (a timer, no CPU), records its end, and returns `id`.
   */
  source(name = 'effect'): string {
    const base = `http://127.0.0.1:${this.port}`
    return `export async function ${name}(id, ms) {
  await fetch('${base}/start/' + id)
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
  await fetch('${base}/end/' + id)
  return id
}`
  }

  /** Ids that started more than once. */
  duplicates(): string[] {
    return [...this.starts].filter(([, n]) => n > 1).map(([id]) => id)
  }
}
