// Part of the isolate runtime: fetch, carried out by the host (fetch-host.ts)
// under the function's egress policy. The request goes out through a
// fire-and-forget callback; the host enters the isolate with the answer
// (`deliver`), in parts: the head, then the body in chunks as it arrives (so
// the body lives here, under the isolate's memory limit, never whole on the
// host), then its end or an error. Only primitives and arrays of them cross:
// bodies travel as byte strings. What a request carries out is measured here
// first, with `.length` of primitives and captured intrinsics (common.js), so
// nothing over its bound is copied out of the isolate (the host checks again).
// The Response and Headers objects are made here and are not globals; a
// failure is a TypeError, as on the web. Fetches still pending when their call ends are dropped.
import {
  ArrayBufferIsView,
  ArrayPush,
  defineGlobal,
  fromCharCode,
  isArray,
  jsonParse,
  MapDelete,
  MapGet,
  MapSet,
  objectEntries,
  ReflectApply,
  SafeArrayBuffer,
  SafePromise,
  SafeTypeError,
  SafeUint8Array,
  StringCharCodeAt,
  StringCtor,
  StringToLowerCase,
  StringToUpperCase,
  SymbolIterator,
  TypedArrayLength,
  TypedArraySubarray,
} from './common.js'
import { decodeUtf8, encodeUtf8 } from './encoding.js'

// The bounds of a request (the same figures as FETCH_LIMITS in fetch-host.ts).
const FETCH_MAX_URL = 64 * 1024
const FETCH_MAX_METHOD = 32
const FETCH_MAX_HEADERS = 100
const FETCH_MAX_HEADER_CHARS = 64 * 1024
const FETCH_MAX_REQUEST_BYTES = 1024 * 1024

function byteString(bytes) {
  const n = TypedArrayLength(bytes)
  let out = ''
  for (let i = 0; i < n; i += 8192) out += ReflectApply(fromCharCode, null, TypedArraySubarray(bytes, i, i + 8192))
  return out
}

function requestTooLarge() {
  return new SafeTypeError(`fetch: the request body is over ${FETCH_MAX_REQUEST_BYTES} bytes`)
}

/** The request body as a byte string, its true size checked before it is built. */
function bodyBytes(body, SafeURLSearchParams) {
  if (body === undefined || body === null) return null
  let text
  if (typeof body === 'string') text = body
  else if (body instanceof SafeURLSearchParams) text = StringCtor(body.toString())
  if (text !== undefined) {
    // UTF-8 takes at least one byte per UTF-16 unit: longer is over, whatever it holds.
    if (text.length > FETCH_MAX_REQUEST_BYTES) throw requestTooLarge()
    const encoded = encodeUtf8(text)
    if (TypedArrayLength(encoded) > FETCH_MAX_REQUEST_BYTES) throw requestTooLarge()
    return byteString(encoded)
  }
  let bytes
  if (body instanceof SafeArrayBuffer) bytes = new SafeUint8Array(body)
  else if (ArrayBufferIsView(body)) bytes = new SafeUint8Array(body.buffer, body.byteOffset, body.byteLength)
  else throw new SafeTypeError('fetch: the body must be a string, an ArrayBuffer, a typed array or URLSearchParams')
  // The view's own length (a captured getter): what the prototype's getters say is not trusted.
  if (TypedArrayLength(bytes) > FETCH_MAX_REQUEST_BYTES) throw requestTooLarge()
  return byteString(bytes)
}

function headerPairs(headers) {
  const out = []
  if (headers === undefined || headers === null) return out
  let count = 0
  let chars = 0
  const add = (pair) => {
    const name = StringCtor(pair[0])
    const value = StringCtor(pair[1])
    chars += name.length + value.length
    if (++count > FETCH_MAX_HEADERS || chars > FETCH_MAX_HEADER_CHARS) {
      throw new SafeTypeError(
        `fetch: at most ${FETCH_MAX_HEADERS} request headers of ${FETCH_MAX_HEADER_CHARS} characters in all`,
      )
    }
    ArrayPush(out, name, value)
  }
  if (isArray(headers)) for (let i = 0; i < headers.length; i++) add(headers[i])
  else if (typeof headers[SymbolIterator] === 'function') for (const pair of headers) add(pair)
  else {
    const entries = objectEntries(headers)
    for (let i = 0; i < entries.length; i++) add(entries[i])
  }
  return out
}

function makeHeaders(flat) {
  const list = []
  for (let i = 0; i + 1 < flat.length; i += 2)
    ArrayPush(list, [StringToLowerCase(StringCtor(flat[i])), StringCtor(flat[i + 1])])
  const all = (name) => {
    const key = StringToLowerCase(StringCtor(name))
    const values = []
    for (let i = 0; i < list.length; i++) if (list[i][0] === key) ArrayPush(values, list[i][1])
    return values
  }
  const copy = () => {
    const out = []
    for (let i = 0; i < list.length; i++) ArrayPush(out, [list[i][0], list[i][1]])
    return out
  }
  return {
    get: (name) => {
      const values = all(name)
      if (values.length === 0) return null
      let joined = values[0]
      for (let i = 1; i < values.length; i++) joined += `, ${values[i]}`
      return joined
    },
    has: (name) => all(name).length > 0,
    forEach: (callback) => {
      for (let i = 0; i < list.length; i++) callback(list[i][1], list[i][0])
    },
    entries: () => copy()[SymbolIterator](),
    [SymbolIterator]: () => copy()[SymbolIterator](),
  }
}

/** A response body as it arrives: byte-string chunks, until the host says it ended or failed. */
function makeResponseBody() {
  return { chunks: [], size: 0, done: false, error: null, waiters: [] }
}

function settleBody(body) {
  const waiters = body.waiters
  body.waiters = []
  for (let i = 0; i < waiters.length; i++) waiters[i]()
}

function makeResponse(head, body) {
  const status = head[1]
  let used = false
  const bytes = async () => {
    if (used) throw new SafeTypeError('the body has already been read')
    used = true
    while (!body.done) await new SafePromise((resolve) => ArrayPush(body.waiters, resolve))
    if (body.error !== null) throw new SafeTypeError(`fetch failed: ${body.error}`)
    const out = new SafeUint8Array(body.size)
    let at = 0
    for (let c = 0; c < body.chunks.length; c++) {
      const chunk = body.chunks[c]
      for (let i = 0; i < chunk.length; i++) out[at++] = StringCharCodeAt(chunk, i)
    }
    body.chunks = []
    return out
  }
  const text = async () => {
    const b = await bytes()
    return decodeUtf8(b, 0, TypedArrayLength(b), false, false).text
  }
  return {
    status,
    statusText: head[2],
    ok: status >= 200 && status < 300,
    url: head[4],
    redirected: head[5],
    headers: makeHeaders(head[3]),
    get bodyUsed() {
      return used
    },
    text,
    json: async () => jsonParse(await text()),
    bytes,
    arrayBuffer: async () => (await bytes()).buffer,
  }
}

export function installFetch(global, hostFetch, state) {
  const SafeURLSearchParams = global.URLSearchParams
  let nextId = 0
  defineGlobal(global, 'fetch', async function fetch(input, init = undefined) {
    const call = state.call
    if (call === null) throw new SafeTypeError('fetch can only be used during a call')
    const options = init === undefined || init === null ? {} : init
    const url = StringCtor(typeof input === 'object' && input !== null && 'href' in input ? input.href : input)
    if (url.length > FETCH_MAX_URL) throw new SafeTypeError(`fetch: the URL is over ${FETCH_MAX_URL} characters`)
    const verb = StringCtor(options.method ?? 'GET')
    if (verb.length > FETCH_MAX_METHOD)
      throw new SafeTypeError(`fetch: the method is over ${FETCH_MAX_METHOD} characters`)
    const method = StringToUpperCase(verb)
    const headers = headerPairs(options.headers)
    const body = bodyBytes(options.body, SafeURLSearchParams)
    const id = ++nextId
    return new SafePromise((resolve, reject) => {
      MapSet(call.fetches, id, { resolve, reject, body: null })
      hostFetch(call.seq, id, url, method, headers, body)
    })
  })
  /**
   * One part of the host's answer to fetch `id` of call `seq`: ['head', status,
   * statusText, [name, value, ...], url, redirected], ['chunk', byte string],
   * ['end'] or ['error', message]. Answers whether more is wanted: false once
   * the fetch is over or its call has ended, and the host stops reading.
   */
  return function deliver(seq, id, answer) {
    const call = state.call
    if (call === null || call.seq !== seq || !isArray(answer)) return false
    const pending = MapGet(call.fetches, id)
    if (pending === undefined) return false
    const kind = answer[0]
    const body = pending.body
    if (body === null) {
      if (kind === 'head') {
        pending.body = makeResponseBody()
        pending.resolve(makeResponse(answer, pending.body))
        return true
      }
      MapDelete(call.fetches, id)
      pending.reject(new SafeTypeError(`fetch failed: ${kind === 'error' ? StringCtor(answer[1]) : 'no answer'}`))
      return false
    }
    if (kind === 'chunk' && typeof answer[1] === 'string') {
      ArrayPush(body.chunks, answer[1])
      body.size += answer[1].length
      return true
    }
    MapDelete(call.fetches, id)
    body.done = true
    if (kind !== 'end') body.error = kind === 'error' ? StringCtor(answer[1]) : 'no answer'
    settleBody(body)
    return false
  }
}
