// fetch in a worker process, which has no network: the same CallFetch shape
// as fetch-host.ts (worker-main.ts puts this module in its place), with every
// request carried out by the host over the worker channel, under the call's
// egress policy, checked again there. The host's CallFetch (one per call
// session) enforces the limits on count and sizes; nothing of undici is
// loaded here.
import type { EgressPolicy } from '../egress.ts'
import type { FetchSink } from '../generic-isolate.ts'
import type { FromWorker } from './protocol.ts'

/** Open sessions (one per call that fetched), by id: answers from the host find their call here. */
const sessions = new Map<number, CallFetch>()
let sessionIds = 0

const send = (message: FromWorker): void => {
  if (process.connected) process.send?.(message)
}

/** An answer from the host for fetch `id` of `session` (worker-loop.ts hands it over). */
export function deliverFetched(session: number, id: number, answer: unknown[]): void {
  sessions.get(session)?.answered(id, answer)
}

export class CallFetch implements FetchSink {
  readonly #seq: number
  readonly #allow: string[]
  readonly #deliver: (id: number, answer: unknown[]) => void
  /** Made on the first fetch: most calls never fetch. */
  #session: number | undefined
  #closed = false

  constructor(seq: number, policy: EgressPolicy, deliver: (id: number, answer: unknown[]) => void) {
    this.#seq = seq
    this.#allow = [...policy.allow]
    this.#deliver = deliver
  }

  start(seq: number, id: number, url: unknown, method: unknown, headers: unknown, body: unknown): void {
    if (seq !== this.#seq || this.#closed) return
    if (this.#session === undefined) {
      this.#session = ++sessionIds
      sessions.set(this.#session, this)
    }
    const headerList = Array.isArray(headers) ? headers.map((h) => String(h)) : []
    send({
      t: 'fetch',
      session: this.#session,
      id,
      allow: this.#allow,
      request: [
        String(url),
        typeof method === 'string' ? method : 'GET',
        headerList,
        typeof body === 'string' ? body : null,
      ],
    })
  }

  answered(id: number, answer: unknown[]): void {
    if (!this.#closed) this.#deliver(id, answer)
  }

  /** The call ended: the host aborts its requests still in flight. */
  close(): void {
    this.#closed = true
    if (this.#session === undefined) return
    sessions.delete(this.#session)
    send({ t: 'fetch-close', session: this.#session })
  }
}
