// Part of the isolate runtime: helpers the other parts share. Everything the
// runtime needs later is captured here, at install time, so tenant code that
// reassigns a built-in cannot change how the runtime behaves.
export const StringCtor = String
export const fromCharCode = String.fromCharCode
export const jsonParse = JSON.parse
export const jsonStringify = JSON.stringify
export const SafeMap = Map
export const SafeWeakMap = WeakMap
export const SafeUint8Array = Uint8Array
export const isArray = Array.isArray
export const objectDefine = Object.defineProperty
export const getPrototypeOf = Object.getPrototypeOf
export const MathFloor = Math.floor
export const MathMin = Math.min
export const MathMax = Math.max
export const NumberIsFinite = Number.isFinite

/** A non-enumerable, writable, configurable property, like the built-ins'. */
export function defineMethod(target, name, value) {
  objectDefine(target, name, { value, writable: true, enumerable: false, configurable: true })
}

export function defineGlobal(global, name, value) {
  defineMethod(global, name, value)
}

/** UTF-8 length of `text`, counting no further than `cap` (returns cap + 1 past it). */
export function utf8Length(text, cap) {
  const n = text.length
  if (n * 3 <= cap) {
    let bytes = 0
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i)
      bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        bytes++
        i++
      }
    }
    return bytes
  }
  if (n > cap) return cap + 1
  let bytes = 0
  for (let i = 0; i < n && bytes <= cap; i++) {
    const c = text.charCodeAt(i)
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      bytes++
      i++
    }
  }
  return MathMin(bytes, cap + 1)
}

/** The longest prefix of `text` whose UTF-8 form fits in `budget` bytes. */
export function utf8Prefix(text, budget) {
  let bytes = 0
  let i = 0
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 4 : 3
    if (bytes + size > budget) break
    bytes += size
    if (size === 4) i++
  }
  return text.slice(0, i)
}

/** An error whose name says what kind it is, as a DOMException would. */
export function namedError(name, message) {
  const error = new Error(message)
  objectDefine(error, 'name', { value: name, writable: true, configurable: true })
  return error
}
