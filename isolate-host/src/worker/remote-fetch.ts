// fetch in a worker process, which has no network: the same CallFetch shape
// as fetch-host.ts (worker-main.ts puts this module in its place), with every
// request carried out by the host over the worker channel, under the call's
// egress policy, checked again there. The host's CallFetch (one per call
// session) enforces the limits on count and sizes and streams each answer
// part by part; each part is handed into the isolate here and acknowledged,
// so the host reads the next body chunk only once the last is delivered.
// Nothing of undici is loaded here.
import type { EgressPolicy } from '../egress.ts'
import type { FetchDeliver } from '../fetch-host.ts'
import type { FetchSink } from '../generic-isolate.ts'
import type { FromWorker } from './protocol.ts'

/** Open sessions (one per call that fetched), by id: answers from the host find their call here. */
const sessions = new Map<number, CallFetch>()
let sessionIds = 0

const send = (message: FromWorker): void => {
  if (process.connected) process.send?.(message)
}

/** Part of the answer to fetch `id` of `session` (worker-loop.ts hands it over); acknowledged with `ack`. */
export function deliverFetched(session: number, id: number, part: unknown[], ack: number): void {
  const fetcher = sessions.get(session)
  if (fetcher) fetcher.answered(id, part, ack)
  else send({ t: 'fetch-ack', session, ack, wanted: false })
}

export class CallFetch implements FetchSink {
  readonly #seq: number
  readonly #allow: string[]
  readonly #pool: string
  readonly #memoryMb: number
  readonly #deliver: FetchDeliver
  /** Made on the first fetch: most calls never fetch. */
  #session: number | undefined
  #closed = false

  /** As fetch-host.ts's: `pool` names the function, `memoryMb` is the call's memory limit. */
  constructor(seq: number, policy: EgressPolicy, pool: string, memoryMb: number, deliver: FetchDeliver) {
    this.#seq = seq
    this.#allow = [...policy.allow]
    this.#pool = pool
    this.#memoryMb = memoryMb
    this.#deliver = deliver
  }

  start(seq: number, id: number, url: unknown, method: unknown, headers: unknown, body: unknown): void {
    if (seq !== this.#seq || this.#closed) return
    if (this.#session === undefined) {
      this.#session = ++sessionIds
      sessions.set(this.#session, this)
    }
    // Passed as the isolate handed them: the host's CallFetch checks their types and sizes.
    send({
      t: 'fetch',
      session: this.#session,
      id,
      allow: this.#allow,
      pool: this.#pool,
      memoryMb: this.#memoryMb,
      request: [url, method, headers, body],
    })
  }

  answered(id: number, part: unknown[], ack: number): void {
    const session = this.#session ?? 0
    if (this.#closed) {
      send({ t: 'fetch-ack', session, ack, wanted: false })
      return
    }
    this.#deliver(id, part).then(
      (wanted) => send({ t: 'fetch-ack', session, ack, wanted: wanted && !this.#closed }),
      () => send({ t: 'fetch-ack', session, ack, wanted: false }),
    )
  }

  /** The call ended: the host aborts its requests still in flight. */
  close(): void {
    this.#closed = true
    if (this.#session === undefined) return
    sessions.delete(this.#session)
    send({ t: 'fetch-close', session: this.#session })
  }
}
