// Part of the isolate runtime: URL and URLSearchParams. Parsing a URL is the
// WHATWG algorithm with its IDNA tables, too large to carry into every
// isolate, so URL asks the host (urlParse: strings in, an array of strings or
// null out); URLSearchParams is form encoding, done here in plain JavaScript.
import { defineGlobal, fromCharCode, isArray, objectDefine, SafeUint8Array, StringCtor } from './common.js'
import { decodeUtf8, encodeUtf8 } from './encoding.js'

const URL_PARTS = [
  'href',
  'origin',
  'protocol',
  'username',
  'password',
  'host',
  'hostname',
  'port',
  'pathname',
  'search',
  'hash',
]
// Every part but origin can be set. Evaluated once, before any tenant code exists.
const URL_SETTERS = URL_PARTS.filter((part) => part !== 'origin')
const MAX_URL_LENGTH = 1 << 20

function formEncode(text) {
  const bytes = encodeUtf8(StringCtor(text))
  let out = ''
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2a ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f
    ) {
      out += fromCharCode(b)
    } else if (b === 0x20) out += '+'
    else out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`
  }
  return out
}

function formDecode(text) {
  const input = text.replace(/\+/g, ' ')
  const bytes = encodeUtf8(input)
  const out = new SafeUint8Array(bytes.length)
  let n = 0
  const hex = (b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25 && i + 2 < bytes.length && hex(bytes[i + 1]) && hex(bytes[i + 2])) {
      out[n++] = Number.parseInt(fromCharCode(bytes[i + 1], bytes[i + 2]), 16)
      i += 2
    } else out[n++] = bytes[i]
  }
  return decodeUtf8(out, 0, n, false, false).text
}

export function installUrl(global, urlParse) {
  let resetParams
  let linkParams

  class URLSearchParams {
    #list = []
    #url = null
    static {
      resetParams = (params, search) => params.#parse(search)
      linkParams = (params, url) => {
        params.#url = url
      }
    }
    constructor(init = '') {
      if (init instanceof URLSearchParams) this.#list = init.#list.map(([k, v]) => [k, v])
      else if (init !== null && typeof init === 'object') {
        if (typeof init[Symbol.iterator] === 'function') {
          for (const pair of init) {
            const entry = [...pair]
            if (entry.length !== 2) throw new TypeError('URLSearchParams: each pair must have exactly two items')
            this.#list.push([StringCtor(entry[0]), StringCtor(entry[1])])
          }
        } else for (const key of Object.keys(init)) this.#list.push([key, StringCtor(init[key])])
      } else this.#parse(StringCtor(init))
    }
    #parse(text) {
      this.#list = []
      const body = text.startsWith('?') ? text.slice(1) : text
      for (const part of body.split('&')) {
        if (part === '') continue
        const eq = part.indexOf('=')
        const name = eq < 0 ? part : part.slice(0, eq)
        this.#list.push([formDecode(name), eq < 0 ? '' : formDecode(part.slice(eq + 1))])
      }
    }
    #update() {
      if (this.#url !== null) setPart(this.#url, 'search', this.toString(), false)
    }
    get size() {
      return this.#list.length
    }
    append(name, value) {
      this.#list.push([StringCtor(name), StringCtor(value)])
      this.#update()
    }
    delete(name, value) {
      const n = StringCtor(name)
      const v = value === undefined ? undefined : StringCtor(value)
      this.#list = this.#list.filter(([k, x]) => k !== n || (v !== undefined && x !== v))
      this.#update()
    }
    get(name) {
      const n = StringCtor(name)
      const found = this.#list.find(([k]) => k === n)
      return found === undefined ? null : found[1]
    }
    getAll(name) {
      const n = StringCtor(name)
      return this.#list.filter(([k]) => k === n).map(([, v]) => v)
    }
    has(name, value) {
      const n = StringCtor(name)
      const v = value === undefined ? undefined : StringCtor(value)
      return this.#list.some(([k, x]) => k === n && (v === undefined || x === v))
    }
    set(name, value) {
      const n = StringCtor(name)
      const index = this.#list.findIndex(([k]) => k === n)
      if (index < 0) this.#list.push([n, StringCtor(value)])
      else {
        this.#list[index] = [n, StringCtor(value)]
        this.#list = this.#list.filter(([k], i) => k !== n || i <= index)
      }
      this.#update()
    }
    sort() {
      this.#list = this.#list
        .map((entry, i) => [entry, i])
        .sort(([[a], i], [[b], j]) => (a < b ? -1 : a > b ? 1 : i - j))
        .map(([entry]) => entry)
      this.#update()
    }
    forEach(callback, thisArg) {
      for (const [k, v] of this.#list) callback.call(thisArg, v, k, this)
    }
    *entries() {
      for (const [k, v] of this.#list) yield [k, v]
    }
    *keys() {
      for (const [k] of this.#list) yield k
    }
    *values() {
      for (const [, v] of this.#list) yield v
    }
    [Symbol.iterator]() {
      return this.entries()
    }
    toString() {
      return this.#list.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&')
    }
  }

  function checked(text) {
    if (text.length > MAX_URL_LENGTH) throw new TypeError(`Invalid URL: longer than ${MAX_URL_LENGTH} characters`)
    return text
  }
  function parts(result) {
    return isArray(result) && result.length === URL_PARTS.length ? result : null
  }
  function parse(input, base) {
    return parts(urlParse(checked(StringCtor(input)), base === undefined ? undefined : checked(StringCtor(base))))
  }
  function modify(href, name, value) {
    return parts(urlParse(href, undefined, name, checked(value)))
  }

  let getPart
  let setPart

  class URL {
    #parts
    #params
    static {
      getPart = (url, index) => url.#parts[index]
      setPart = (url, name, value, resetSearch) => {
        const parts = modify(url.#parts[0], name, value)
        if (parts === null) {
          if (name === 'href') throw new TypeError(`Invalid URL: ${StringCtor(value).slice(0, 200)}`)
          return
        }
        url.#parts = parts
        if (resetSearch) resetParams(url.#params, parts[9])
      }
    }
    constructor(input, base) {
      const parts = parse(input, base)
      if (parts === null) throw new TypeError(`Invalid URL: ${StringCtor(input).slice(0, 200)}`)
      this.#parts = parts
      this.#params = new URLSearchParams(parts[9])
      linkParams(this.#params, this)
    }
    static canParse(input, base) {
      return parse(input, base) !== null
    }
    static parse(input, base) {
      return parse(input, base) === null ? null : new URL(input, base)
    }
    get searchParams() {
      return this.#params
    }
    toString() {
      return this.#parts[0]
    }
    toJSON() {
      return this.#parts[0]
    }
  }
  URL_PARTS.forEach((name, index) => {
    const descriptor = {
      get() {
        return getPart(this, index)
      },
      enumerable: true,
      configurable: true,
    }
    if (URL_SETTERS.includes(name)) {
      descriptor.set = function set(value) {
        setPart(this, name, StringCtor(value), name === 'href' || name === 'search')
      }
    }
    objectDefine(URL.prototype, name, descriptor)
  })
  defineGlobal(global, 'URL', URL)
  defineGlobal(global, 'URLSearchParams', URLSearchParams)
}
