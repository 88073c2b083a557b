// Part of the isolate runtime: crypto.getRandomValues and randomUUID. The
// entropy comes from the host's CSPRNG (the random callback answers a string
// of byte values), fetched 4 KiB at a time; V8's Math.random is not meant for keys.
import { defineGlobal, defineMethod, namedError, SafeUint8Array } from './common.js'
export function installCrypto(global, random) {
  const POOL_BYTES = 4096
  let pool = ''
  let used = 0
  function fill(bytes) {
    for (let i = 0; i < bytes.length; i++) {
      if (used >= pool.length) {
        const fresh = random(POOL_BYTES)
        if (typeof fresh !== 'string' || fresh.length !== POOL_BYTES) throw new Error('no entropy from the host')
        pool = fresh
        used = 0
      }
      bytes[i] = pool.charCodeAt(used++)
    }
  }
  const integerArrays = [
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    BigInt64Array,
    BigUint64Array,
  ]
  const crypto = {}
  defineMethod(crypto, 'getRandomValues', function getRandomValues(array) {
    if (!integerArrays.some((Type) => array instanceof Type)) {
      throw namedError('TypeMismatchError', 'getRandomValues takes an integer typed array')
    }
    if (array.byteLength > 65536) {
      throw namedError('QuotaExceededError', `getRandomValues takes at most 65536 bytes, got ${array.byteLength}`)
    }
    fill(new SafeUint8Array(array.buffer, array.byteOffset, array.byteLength))
    return array
  })
  defineMethod(crypto, 'randomUUID', function randomUUID() {
    const b = new SafeUint8Array(16)
    fill(b)
    b[6] = (b[6] & 0x0f) | 0x40
    b[8] = (b[8] & 0x3f) | 0x80
    let hex = ''
    for (let i = 0; i < 16; i++) hex += (b[i] < 16 ? '0' : '') + b[i].toString(16)
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  })
  defineGlobal(global, 'crypto', Object.freeze(crypto))
}
