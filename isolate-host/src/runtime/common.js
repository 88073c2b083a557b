// Part of the isolate runtime: helpers the other parts share. Everything the
// runtime needs later is captured here, at install time, so tenant code that
// reassigns a built-in cannot change how the runtime behaves. Methods are
// captured "uncurried" (`StringSlice(text, 0, 9)` for `text.slice(0, 9)`), as
// Node's primordials do: calling one looks nothing up on a prototype or on
// the global object, which tenant code can replace. What the runtime owes the
// host (the call's outcome, its limits, what it hands the callbacks) goes
// through these only; so does everything it runs between tenant code.
const FunctionPrototypeCall = Function.prototype.call
/**
 * `fn` as a plain function taking its `this` first: `uncurryThis(Map.prototype.get)(map, key)`.
 * Bound now, so tenant code that later replaces Function.prototype.call or a
 * prototype method cannot change what the runtime calls.
 */
export const uncurryThis = Function.prototype.bind.bind(FunctionPrototypeCall)
const getOwnDescriptor = Object.getOwnPropertyDescriptor
export const ReflectApply = Reflect.apply
export const StringCharCodeAt = uncurryThis(String.prototype.charCodeAt)
export const StringSlice = uncurryThis(String.prototype.slice)
export const StringToLowerCase = uncurryThis(String.prototype.toLowerCase)
export const StringToUpperCase = uncurryThis(String.prototype.toUpperCase)
export const ArrayPush = uncurryThis(Array.prototype.push)
export const ArraySort = uncurryThis(Array.prototype.sort)
export const MapGet = uncurryThis(Map.prototype.get)
export const MapSet = uncurryThis(Map.prototype.set)
export const MapDelete = uncurryThis(Map.prototype.delete)
export const MapClear = uncurryThis(Map.prototype.clear)
export const MapForEach = uncurryThis(Map.prototype.forEach)
export const MapSize = uncurryThis(getOwnDescriptor(Map.prototype, 'size').get)
export const TypedArraySubarray = uncurryThis(Object.getPrototypeOf(Uint8Array.prototype).subarray)
export const TypedArrayLength = uncurryThis(getOwnDescriptor(Object.getPrototypeOf(Uint8Array.prototype), 'length').get)
export const ArrayBufferIsView = ArrayBuffer.isView
export const SafeArrayBuffer = ArrayBuffer
export const SafeError = Error
export const SafeTypeError = TypeError
export const SafeRangeError = RangeError
export const SafePromise = Promise
export const objectFreeze = Object.freeze
export const objectEntries = Object.entries
export const SymbolIterator = Symbol.iterator
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
      const c = StringCharCodeAt(text, i)
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
    const c = StringCharCodeAt(text, i)
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
    const c = StringCharCodeAt(text, i)
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 4 : 3
    if (bytes + size > budget) break
    bytes += size
    if (size === 4) i++
  }
  return StringSlice(text, 0, i)
}

/** An error whose name says what kind it is, as a DOMException would. */
export function namedError(name, message) {
  const error = new SafeError(message)
  objectDefine(error, 'name', { value: name, writable: true, configurable: true })
  return error
}

const getter = (proto, name) => uncurryThis(Object.getOwnPropertyDescriptor(proto, name).get)
export const ObjectKeys = Object.keys
export const ObjectGetOwnPropertySymbols = Object.getOwnPropertySymbols
export const ObjectGetOwnPropertyNames = Object.getOwnPropertyNames
export const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor
export const ObjectPrototype = Object.prototype
export const ObjectIs = Object.is
export const ObjectPrototypePropertyIsEnumerable = uncurryThis(Object.prototype.propertyIsEnumerable)
export const StringPrototypeIncludes = uncurryThis(String.prototype.includes)
export const StringPrototypeIndexOf = uncurryThis(String.prototype.indexOf)
export const StringPrototypeRepeat = uncurryThis(String.prototype.repeat)
export const StringPrototypeReplace = uncurryThis(String.prototype.replace)
export const StringPrototypeValueOf = uncurryThis(String.prototype.valueOf)
export const RegExpPrototypeTest = uncurryThis(RegExp.prototype.test)
export const RegExpPrototypeToString = uncurryThis(RegExp.prototype.toString)
export const RegExpPrototypeGetSource = getter(RegExp.prototype, 'source')
export const NumberPrototypeValueOf = uncurryThis(Number.prototype.valueOf)
export const NumberPrototypeToString = uncurryThis(Number.prototype.toString)
export const NumberCtor = Number
export const NumberParseFloat = Number.parseFloat
export const MathTrunc = Math.trunc
export const BooleanPrototypeValueOf = uncurryThis(Boolean.prototype.valueOf)
export const BigIntPrototypeValueOf = uncurryThis(BigInt.prototype.valueOf)
export const SymbolPrototypeToString = uncurryThis(Symbol.prototype.toString)
export const SetPrototypeGetSize = getter(Set.prototype, 'size')
export const SetPrototypeForEach = uncurryThis(Set.prototype.forEach)
export const WeakMapPrototypeHas = uncurryThis(WeakMap.prototype.has)
export const WeakSetPrototypeHas = uncurryThis(WeakSet.prototype.has)
export const WeakSetPrototypeAdd = uncurryThis(WeakSet.prototype.add)
export const WeakSetPrototypeDelete = uncurryThis(WeakSet.prototype.delete)
export const SafeWeakSet = WeakSet
export const ArrayBufferPrototypeGetByteLength = getter(ArrayBuffer.prototype, 'byteLength')
export const TypedArrayPrototypeGetSymbolToStringTag = getter(
  Object.getPrototypeOf(Int8Array.prototype),
  Symbol.toStringTag,
)
export const DataViewPrototypeGetByteLength = getter(DataView.prototype, 'byteLength')
export const DatePrototypeGetTime = uncurryThis(Date.prototype.getTime)
export const DatePrototypeToISOString = uncurryThis(Date.prototype.toISOString)
export const ErrorIsError = Error.isError
export const PromisePrototypeThen = uncurryThis(Promise.prototype.then)
export const FunctionPrototypeToString = uncurryThis(Function.prototype.toString)
export const AsyncFunctionPrototype = getPrototypeOf(async () => {})
export const GeneratorFunctionPrototype = getPrototypeOf(function* generator() {})
export const AsyncGeneratorFunctionPrototype = getPrototypeOf(async function* generator() {})

/** An own property's value, its getter's answer for an accessor (Error's stack is one), else undefined. */
export function ownValue(object, key) {
  const d = ObjectGetOwnPropertyDescriptor(object, key)
  if (d === undefined) return undefined
  return d.get !== undefined ? uncurryThis(d.get)(object) : d.value
}

/**
 * One of the brand names below when `value` is that built-in (checked by its
 * internal slots, not by anything tenant code can fake), else undefined.
 */
export function brandOf(value) {
  const is = (check) => {
    try {
      check(value)
      return true
    } catch {
      return false
    }
  }
  if (is(MapSize)) return 'Map'
  if (is(SetPrototypeGetSize)) return 'Set'
  if (is(WeakMapPrototypeHas)) return 'WeakMap'
  if (is(WeakSetPrototypeHas)) return 'WeakSet'
  if (is(ArrayBufferPrototypeGetByteLength)) return 'ArrayBuffer'
  if (ArrayBufferIsView(value)) return TypedArrayPrototypeGetSymbolToStringTag(value) ?? 'DataView'
  if (is(DatePrototypeGetTime)) return 'Date'
  if (is(RegExpPrototypeGetSource)) return 'RegExp'
  if (ErrorIsError(value)) return 'Error'
  if (is(NumberPrototypeValueOf)) return 'Number'
  if (is(StringPrototypeValueOf)) return 'String'
  if (is(BooleanPrototypeValueOf)) return 'Boolean'
  if (is(BigIntPrototypeValueOf)) return 'BigInt'
  if (is(SymbolPrototypeToString)) return 'Symbol'
  return undefined
}

/** The name of the class `value` was made by, read without running tenant getters; '' when it has none. */
export function classNameOf(value) {
  try {
    const proto = getPrototypeOf(value)
    if (proto === null) return ''
    const ctor = ObjectGetOwnPropertyDescriptor(proto, 'constructor')
    if (ctor === undefined || typeof ctor.value !== 'function') return ''
    const name = ObjectGetOwnPropertyDescriptor(ctor.value, 'name')
    return name !== undefined && typeof name.value === 'string' ? name.value : ''
  } catch {
    return ''
  }
}
