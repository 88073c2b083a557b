// fetch performed by the host for one call: undici, under the function's
// egress policy, with the call's limits. Takes and answers primitives only:
// the runtime (runtime/fetch.js) sends (url, method, [name, value, ...], body
// as a byte string or null) and is answered, through `deliver`, with [status,
// statusText, [name, value, ...], body as a byte string, final url,
// redirected] or ['error', message]. In-flight requests end with the call.
import { STATUS_CODES } from 'node:http'
import { LRUCache } from 'lru-cache'
import { Agent, request } from 'undici'
import { checkHost, type EgressPolicy, policyLookup } from './egress.ts'
import type { FetchSink } from './generic-isolate.ts'

export const FETCH_LIMITS = Object.freeze({
  /** Requests one call may make. */
  maxRequests: 50,
  /** Redirects followed per request. */
  maxRedirects: 5,
  /** Request body, bytes. */
  maxRequestBytes: 1024 * 1024,
  /** Response body, bytes. */
  maxResponseBytes: 8 * 1024 * 1024,
})

/** One connection pool per egress policy in use; the least recently used is closed (gracefully) past 64. */
const agents = new LRUCache<string, Agent>({ max: 64, dispose: (agent) => void agent.close() })

function agentFor(policy: EgressPolicy): Agent {
  const key = [...policy.allow].sort().join(',')
  let agent = agents.get(key)
  if (!agent) {
    agent = new Agent({ connect: { lookup: policyLookup(policy) }, connections: 16 })
    agents.set(key, agent)
  }
  return agent
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => String(v)) : []
}

export class CallFetch implements FetchSink {
  readonly #seq: number
  readonly #policy: EgressPolicy
  readonly #deliver: (id: number, answer: unknown[]) => void
  /** Made on the first fetch: most calls never fetch. */
  #abort: AbortController | undefined
  #closed = false
  #requests = 0

  constructor(seq: number, policy: EgressPolicy, deliver: (id: number, answer: unknown[]) => void) {
    this.#seq = seq
    this.#policy = policy
    this.#deliver = deliver
  }

  start(seq: number, id: number, url: unknown, method: unknown, headers: unknown, body: unknown): void {
    if (seq !== this.#seq || this.#closed) return
    this.fetch(url, method, headers, body).then(
      (answer) => {
        if (!this.#closed) this.#deliver(id, answer)
      },
      (error: unknown) => {
        if (!this.#closed) this.#deliver(id, ['error', fetchErrorMessage(error)])
      },
    )
  }

  /** The call ended: requests still in flight are aborted. */
  close(): void {
    this.#closed = true
    this.#abort?.abort(new Error('the call ended'))
  }

  async fetch(input: unknown, method: unknown, headerList: unknown, body: unknown): Promise<unknown[]> {
    this.#abort ??= new AbortController()
    const signal = this.#abort.signal
    if (++this.#requests > FETCH_LIMITS.maxRequests) {
      throw new Error(`a call may make at most ${FETCH_LIMITS.maxRequests} fetches`)
    }
    const payload = typeof body === 'string' ? Buffer.from(body, 'latin1') : null
    if (payload && payload.length > FETCH_LIMITS.maxRequestBytes) {
      throw new Error(`request body over ${FETCH_LIMITS.maxRequestBytes} bytes`)
    }
    const pairs = strings(headerList)
    const headers = pairs.length % 2 === 0 ? pairs : pairs.slice(0, -1)
    let url = new URL(String(input))
    let verb = typeof method === 'string' ? method : 'GET'
    let sendBody = payload
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`${url.protocol} URLs cannot be fetched`)
      checkHost(this.#policy, url.hostname)
      const response = await request(url, {
        dispatcher: agentFor(this.#policy),
        method: verb as 'GET',
        headers,
        body: sendBody,
        signal,
      })
      const location = response.headers.location
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await response.body.dump()
        if (hop >= FETCH_LIMITS.maxRedirects) throw new Error(`more than ${FETCH_LIMITS.maxRedirects} redirects`)
        url = new URL(location, url)
        if (
          response.statusCode === 303 ||
          ((response.statusCode === 301 || response.statusCode === 302) && verb === 'POST')
        ) {
          verb = 'GET'
          sendBody = null
        }
        continue
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length
        if (size > FETCH_LIMITS.maxResponseBytes) {
          response.body.destroy()
          throw new Error(`response body over ${FETCH_LIMITS.maxResponseBytes} bytes`)
        }
        chunks.push(chunk as Buffer)
      }
      const flat: string[] = []
      for (const [name, value] of Object.entries(response.headers)) {
        for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) flat.push(name, v)
      }
      const status = response.statusCode
      return [status, STATUS_CODES[status] ?? '', flat, Buffer.concat(chunks).toString('latin1'), url.href, hop > 0]
    }
  }
}

/** What a fetch failure says to tenant code: its message (the policy's refusal among them). */
function fetchErrorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
