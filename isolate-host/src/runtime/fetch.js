// Part of the isolate runtime: fetch, carried out by the host (fetch-host.ts)
// under the function's egress policy. The request goes out through a
// fire-and-forget callback; the host enters the isolate with the answer
// (`deliver`). Only primitives and arrays of them cross: bodies travel as byte strings.
// The Response and Headers objects are made here and are not globals; a
// failure is a TypeError, as on the web. Fetches still pending when their call ends are dropped.
import { defineGlobal, fromCharCode, isArray, SafeUint8Array, StringCtor } from './common.js'
import { decodeUtf8, encodeUtf8 } from './encoding.js'

function byteString(bytes) {
  let out = ''
  for (let i = 0; i < bytes.length; i += 8192) out += fromCharCode.apply(null, bytes.subarray(i, i + 8192))
  return out
}

function bodyBytes(body) {
  if (body === undefined || body === null) return null
  if (typeof body === 'string') return byteString(encodeUtf8(body))
  if (body instanceof ArrayBuffer) return byteString(new SafeUint8Array(body))
  if (ArrayBuffer.isView(body)) return byteString(new SafeUint8Array(body.buffer, body.byteOffset, body.byteLength))
  if (body instanceof URLSearchParams) return byteString(encodeUtf8(body.toString()))
  throw new TypeError('fetch: the body must be a string, an ArrayBuffer, a typed array or URLSearchParams')
}

function headerPairs(headers) {
  const out = []
  if (headers === undefined || headers === null) return out
  const entries = isArray(headers) || typeof headers[Symbol.iterator] === 'function' ? headers : Object.entries(headers)
  for (const [name, value] of entries) out.push(StringCtor(name), StringCtor(value))
  return out
}

function makeHeaders(flat) {
  const list = []
  for (let i = 0; i + 1 < flat.length; i += 2) list.push([StringCtor(flat[i]).toLowerCase(), StringCtor(flat[i + 1])])
  return {
    get: (name) => {
      const values = list.filter(([k]) => k === StringCtor(name).toLowerCase()).map(([, v]) => v)
      return values.length === 0 ? null : values.join(', ')
    },
    has: (name) => list.some(([k]) => k === StringCtor(name).toLowerCase()),
    forEach: (callback) => {
      for (const [k, v] of list) callback(v, k)
    },
    entries: () => list.map(([k, v]) => [k, v])[Symbol.iterator](),
    [Symbol.iterator]: () => list.map(([k, v]) => [k, v])[Symbol.iterator](),
  }
}

function makeResponse(answer) {
  const [status, statusText, flat, body, url, redirected] = answer
  let used = false
  const bytes = () => {
    if (used) throw new TypeError('the body has already been read')
    used = true
    const out = new SafeUint8Array(body.length)
    for (let i = 0; i < body.length; i++) out[i] = body.charCodeAt(i)
    return out
  }
  const text = () => {
    const b = bytes()
    return decodeUtf8(b, 0, b.length, false, false).text
  }
  return {
    status,
    statusText,
    ok: status >= 200 && status < 300,
    url,
    redirected,
    headers: makeHeaders(flat),
    get bodyUsed() {
      return used
    },
    text: async () => text(),
    json: async () => JSON.parse(text()),
    bytes: async () => bytes(),
    arrayBuffer: async () => bytes().buffer,
  }
}

export function installFetch(global, hostFetch, state) {
  let nextId = 0
  defineGlobal(global, 'fetch', async function fetch(input, init = {}) {
    const call = state.call
    if (call === null) throw new TypeError('fetch can only be used during a call')
    const url = StringCtor(typeof input === 'object' && input !== null && 'href' in input ? input.href : input)
    const method = StringCtor(init?.method ?? 'GET').toUpperCase()
    const headers = headerPairs(init?.headers)
    const body = bodyBytes(init?.body)
    const id = ++nextId
    const answer = await new Promise((resolve) => {
      call.fetches.set(id, resolve)
      hostFetch(call.seq, id, url, method, headers, body)
    })
    if (!isArray(answer) || answer[0] === 'error') {
      throw new TypeError(`fetch failed: ${isArray(answer) ? StringCtor(answer[1]) : 'no answer'}`)
    }
    return makeResponse(answer)
  })
  /** The host's answer to fetch `id` of call `seq`. */
  return function deliver(seq, id, answer) {
    const call = state.call
    if (call === null || call.seq !== seq) return
    const resolve = call.fetches.get(id)
    if (resolve === undefined) return
    call.fetches.delete(id)
    resolve(answer)
  }
}
