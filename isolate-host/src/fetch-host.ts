// fetch performed by the host for one call: undici, under the function's
// egress policy, with the call's limits. Takes and answers primitives only:
// the runtime (runtime/fetch.js) sends (url, method, [name, value, ...], body
// as a byte string or null), each measured in the isolate before it was
// copied out and checked again here before it is used, and is answered,
// through `deliver`, in parts: ['head', status, statusText, [name, value,
// ...], final url, redirected], then ['chunk', byte string] as the body
// arrives, then ['end'] (or ['error', message] at any point). The body is
// never held whole here: each chunk goes into the isolate (under its memory
// limit) before the next is read, so a fetch holds at most one chunk of this
// process's memory. In-flight requests end with the call.
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
  /** Request URL, characters (runtime/fetch.js checks it first). */
  maxUrlLength: 64 * 1024,
  /** Request method, characters. */
  maxMethodLength: 32,
  /** Request headers: at most this many, of at most maxHeaderChars characters in all. */
  maxHeaders: 100,
  maxHeaderChars: 64 * 1024,
  /** Request body, bytes. */
  maxRequestBytes: 1024 * 1024,
  /** One response body, bytes. */
  maxResponseBytes: 8 * 1024 * 1024,
  /** All response bodies of one call, as a share of the call's memory limit (they live in its isolate). */
  responseShareOfMemory: 0.5,
  /** Connection pools kept (one per function and egress policy); the least recently used is closed past it. */
  maxPools: 256,
  /** Connections per origin in one pool. */
  connectionsPerOrigin: 16,
})

/**
 * One connection pool per function (and egress policy): never shared between
 * functions, so one tenant holding its connections with slow requests cannot
 * make another's fetches wait. The least recently used pool is closed
 * (gracefully: its requests in flight finish) past maxPools.
 */
const agents = new LRUCache<string, Agent>({ max: FETCH_LIMITS.maxPools, dispose: (agent) => void agent.close() })

function agentFor(pool: string, policy: EgressPolicy): Agent {
  const key = `${pool}\0${[...policy.allow].sort().join(',')}`
  let agent = agents.get(key)
  if (!agent) {
    agent = new Agent({ connect: { lookup: policyLookup(policy) }, connections: FETCH_LIMITS.connectionsPerOrigin })
    agents.set(key, agent)
  }
  return agent
}

/** A string of at most `max` characters, or undefined. */
function bounded(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length <= max ? value : undefined
}

/** The request's header pairs, checked against the limits (the runtime checked them before copying them out). */
function headerList(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 2 * FETCH_LIMITS.maxHeaders) {
    throw new Error(`at most ${FETCH_LIMITS.maxHeaders} request headers`)
  }
  let chars = 0
  const pairs = value.map((v) => {
    const text = typeof v === 'string' ? v : ''
    chars += text.length
    return text
  })
  if (chars > FETCH_LIMITS.maxHeaderChars)
    throw new Error(`request headers over ${FETCH_LIMITS.maxHeaderChars} characters`)
  return pairs.length % 2 === 0 ? pairs : pairs.slice(0, -1)
}

/**
 * Hands one part of a fetch's answer into the isolate; resolves whether the
 * isolate wants more (false once the fetch or its call is over).
 */
export type FetchDeliver = (id: number, answer: unknown[]) => Promise<boolean>

export class CallFetch implements FetchSink {
  readonly #seq: number
  readonly #policy: EgressPolicy
  readonly #pool: string
  readonly #maxBodyBytes: number
  readonly #deliver: FetchDeliver
  /** Made on the first fetch: most calls never fetch. */
  #abort: AbortController | undefined
  #closed = false
  #requests = 0
  /** Response body bytes handed into the isolate so far in this call. */
  #bodyBytes = 0

  /**
   * `pool` names the function (its connections are its own); `memoryMb` is the
   * call's memory limit, of which response bodies may take responseShareOfMemory.
   */
  constructor(seq: number, policy: EgressPolicy, pool: string, memoryMb: number, deliver: FetchDeliver) {
    this.#seq = seq
    this.#policy = policy
    this.#pool = pool
    this.#maxBodyBytes = Math.floor(memoryMb * 1024 * 1024 * FETCH_LIMITS.responseShareOfMemory)
    this.#deliver = deliver
  }

  start(seq: number, id: number, url: unknown, method: unknown, headers: unknown, body: unknown): void {
    if (seq !== this.#seq || this.#closed) return
    this.fetch(id, url, method, headers, body).catch((error: unknown) => {
      if (!this.#closed) void this.#deliver(id, ['error', fetchErrorMessage(error)])
    })
  }

  /** The call ended: requests still in flight are aborted. */
  close(): void {
    this.#closed = true
    this.#abort?.abort(new Error('the call ended'))
  }

  /** Carries out fetch `id` and hands its answer into the isolate, part by part. */
  async fetch(id: number, input: unknown, method: unknown, headerPairs: unknown, body: unknown): Promise<void> {
    this.#abort ??= new AbortController()
    const signal = this.#abort.signal
    if (++this.#requests > FETCH_LIMITS.maxRequests) {
      throw new Error(`a call may make at most ${FETCH_LIMITS.maxRequests} fetches`)
    }
    // Sizes first, before anything is converted or copied again.
    const href = bounded(input, FETCH_LIMITS.maxUrlLength)
    if (href === undefined)
      throw new Error(`the URL must be a string of at most ${FETCH_LIMITS.maxUrlLength} characters`)
    const verb0 = method === undefined ? 'GET' : bounded(method, FETCH_LIMITS.maxMethodLength)
    if (verb0 === undefined) throw new Error(`the method must be at most ${FETCH_LIMITS.maxMethodLength} characters`)
    if (body !== null && body !== undefined && bounded(body, FETCH_LIMITS.maxRequestBytes) === undefined) {
      throw new Error(`request body over ${FETCH_LIMITS.maxRequestBytes} bytes`)
    }
    const headers = headerList(headerPairs)
    const payload = typeof body === 'string' ? Buffer.from(body, 'latin1') : null
    let url = new URL(href)
    let verb = verb0
    let sendBody = payload
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`${url.protocol} URLs cannot be fetched`)
      checkHost(this.#policy, url.hostname)
      const response = await request(url, {
        dispatcher: agentFor(this.#pool, this.#policy),
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
      const flat: string[] = []
      for (const [name, value] of Object.entries(response.headers)) {
        for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) flat.push(name, v)
      }
      const status = response.statusCode
      const head = ['head', status, STATUS_CODES[status] ?? '', flat, url.href, hop > 0]
      if (this.#closed || !(await this.#deliver(id, head))) {
        response.body.destroy()
        return
      }
      await this.#stream(id, response.body)
      return
    }
  }

  /** The body into the isolate, one chunk at a time: the next is read once the last is delivered. */
  async #stream(id: number, body: AsyncIterable<unknown> & { destroy(): void }): Promise<void> {
    let size = 0
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer
        size += bytes.length
        this.#bodyBytes += bytes.length
        if (size > FETCH_LIMITS.maxResponseBytes) {
          throw new Error(`response body over ${FETCH_LIMITS.maxResponseBytes} bytes`)
        }
        if (this.#bodyBytes > this.#maxBodyBytes) {
          throw new Error(`response bodies in this call over ${this.#maxBodyBytes} bytes (half its memory limit)`)
        }
        if (this.#closed || !(await this.#deliver(id, ['chunk', bytes.toString('latin1')]))) return
      }
    } finally {
      body.destroy()
    }
    if (!this.#closed) await this.#deliver(id, ['end'])
  }
}

/** What a fetch failure says to tenant code: its message (the policy's refusal among them). */
function fetchErrorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
