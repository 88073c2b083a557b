// Part of the isolate runtime: TextEncoder/TextDecoder (UTF-8, the only
// encoding the runtime offers) and atob/btoa, in plain JavaScript.
import { defineGlobal, fromCharCode, namedError, SafeUint8Array, StringCtor } from './common.js'

export function encodeUtf8(text) {
  const out = new SafeUint8Array(text.length * 3)
  let n = 0
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0
      if (c < 0xdc00 && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
      } else c = 0xfffd
    }
    if (c < 0x80) out[n++] = c
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6)
      out[n++] = 0x80 | (c & 0x3f)
    } else if (c < 0x10000) {
      out[n++] = 0xe0 | (c >> 12)
      out[n++] = 0x80 | ((c >> 6) & 0x3f)
      out[n++] = 0x80 | (c & 0x3f)
    } else {
      out[n++] = 0xf0 | (c >> 18)
      out[n++] = 0x80 | ((c >> 12) & 0x3f)
      out[n++] = 0x80 | ((c >> 6) & 0x3f)
      out[n++] = 0x80 | (c & 0x3f)
    }
  }
  return out.slice(0, n)
}

/**
 * Decodes UTF-8 bytes[start, end) with WHATWG error handling (each maximal
 * invalid subpart becomes U+FFFD, or a TypeError when `fatal`). Returns the
 * text and how many trailing bytes form an incomplete sequence (kept when streaming).
 */
export function decodeUtf8(bytes, start, end, fatal, stream) {
  let text = ''
  let units = []
  let i = start
  while (i < end) {
    const b = bytes[i]
    let need = 0
    let cp = b
    let lower = 0x80
    let upper = 0xbf
    if (b < 0x80) need = 0
    else if (b >= 0xc2 && b <= 0xdf) {
      need = 1
      cp = b & 0x1f
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      cp = b & 0x0f
      if (b === 0xe0) lower = 0xa0
      if (b === 0xed) upper = 0x9f
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      cp = b & 0x07
      if (b === 0xf0) lower = 0x90
      if (b === 0xf4) upper = 0x8f
    } else need = -1
    let j = i + 1
    if (need > 0) {
      for (let k = 0; k < need; k++, j++) {
        if (j >= end) {
          if (stream) return { text: text + fromCharCode.apply(null, units), pending: end - i }
          need = -1
          break
        }
        const c = bytes[j]
        if (c < lower || c > upper) {
          need = -1
          break
        }
        lower = 0x80
        upper = 0xbf
        cp = (cp << 6) | (c & 0x3f)
      }
    }
    if (need < 0) {
      if (fatal) throw new TypeError('The encoded data was not valid UTF-8')
      cp = 0xfffd
      if (j === i) j = i + 1
    }
    if (cp > 0xffff) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff))
    else units.push(cp)
    i = j
    if (units.length >= 8192) {
      text += fromCharCode.apply(null, units)
      units = []
    }
  }
  return { text: text + fromCharCode.apply(null, units), pending: 0 }
}

function bytesOf(input) {
  if (input === undefined) return new SafeUint8Array(0)
  if (input instanceof ArrayBuffer) return new SafeUint8Array(input)
  if (ArrayBuffer.isView(input)) return new SafeUint8Array(input.buffer, input.byteOffset, input.byteLength)
  throw new TypeError('TextDecoder.decode takes an ArrayBuffer or an ArrayBuffer view')
}

export function installEncoding(global) {
  class TextEncoder {
    get encoding() {
      return 'utf-8'
    }
    encode(input = '') {
      return encodeUtf8(StringCtor(input))
    }
    encodeInto(source, destination) {
      const bytes = encodeUtf8(StringCtor(source))
      let read = 0
      let written = 0
      const text = StringCtor(source)
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i)
        const pair = c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
        const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3
        if (written + size > destination.length) break
        for (let k = 0; k < size; k++) destination[written + k] = bytes[written + k]
        written += size
        read += pair ? 2 : 1
        if (pair) i++
      }
      return { read, written }
    }
  }
  const LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8']
  class TextDecoder {
    #fatal
    #ignoreBOM
    #pending = new SafeUint8Array(0)
    #sawStart = false
    constructor(label = 'utf-8', options = {}) {
      const name = StringCtor(label).trim().toLowerCase()
      if (!LABELS.includes(name)) throw new RangeError(`The encoding "${label}" is not supported (only utf-8)`)
      this.#fatal = Boolean(options?.fatal)
      this.#ignoreBOM = Boolean(options?.ignoreBOM)
    }
    get encoding() {
      return 'utf-8'
    }
    get fatal() {
      return this.#fatal
    }
    get ignoreBOM() {
      return this.#ignoreBOM
    }
    decode(input, options = {}) {
      const stream = Boolean(options?.stream)
      let bytes = bytesOf(input)
      if (this.#pending.length > 0) {
        const joined = new SafeUint8Array(this.#pending.length + bytes.length)
        joined.set(this.#pending)
        joined.set(bytes, this.#pending.length)
        bytes = joined
      }
      let start = 0
      const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
      if (!this.#sawStart && !this.#ignoreBOM && bom) start = 3
      this.#sawStart = stream
      const { text, pending } = decodeUtf8(bytes, start, bytes.length, this.#fatal, stream)
      this.#pending = bytes.slice(bytes.length - pending)
      if (!stream) this.#pending = new SafeUint8Array(0)
      return text
    }
  }
  defineGlobal(global, 'TextEncoder', TextEncoder)
  defineGlobal(global, 'TextDecoder', TextDecoder)

  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  defineGlobal(global, 'btoa', function btoa(data) {
    const text = StringCtor(data)
    let out = ''
    for (let i = 0; i < text.length; i += 3) {
      const a = text.charCodeAt(i)
      const b = i + 1 < text.length ? text.charCodeAt(i + 1) : 0
      const c = i + 2 < text.length ? text.charCodeAt(i + 2) : 0
      if (a > 0xff || b > 0xff || c > 0xff) {
        throw namedError('InvalidCharacterError', 'btoa: the string contains characters outside of Latin1')
      }
      const n = (a << 16) | (b << 8) | c
      out += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63]
      out += i + 1 < text.length ? ALPHABET[(n >> 6) & 63] : '='
      out += i + 2 < text.length ? ALPHABET[n & 63] : '='
    }
    return out
  })
  defineGlobal(global, 'atob', function atob(data) {
    let text = StringCtor(data).replace(/[\t\n\f\r ]/g, '')
    if (text.length % 4 === 0) text = text.replace(/==?$/, '')
    if (text.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(text)) {
      throw namedError('InvalidCharacterError', 'atob: the string is not correctly encoded base64')
    }
    let out = ''
    let buffer = 0
    let bits = 0
    for (let i = 0; i < text.length; i++) {
      buffer = (buffer << 6) | ALPHABET.indexOf(text[i])
      bits += 6
      if (bits >= 8) {
        bits -= 8
        out += fromCharCode((buffer >> bits) & 0xff)
      }
    }
    return out
  })
}
