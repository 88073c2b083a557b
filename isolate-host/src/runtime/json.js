// Part of the isolate runtime: a function's result as JSON text, refusing
// every value whose JSON form would silently lose content (JSON.stringify
// turns a Map into {}, NaN into null, drops functions), and saying which
// value and where: `result.counts is a Map`. The rules are the ones
// isolate-host/README.md ("Values") documents; sdk's encoder (proto's
// json-value.ts) applies the same ones to arguments. Everything it calls was
// captured before tenant code ran (common.js).
import {
  ArrayBufferIsView,
  BooleanPrototypeValueOf,
  brandOf,
  classNameOf,
  DatePrototypeGetTime,
  getPrototypeOf,
  isArray,
  jsonStringify,
  NumberIsFinite,
  NumberPrototypeValueOf,
  ObjectGetOwnPropertySymbols,
  ObjectKeys,
  ObjectPrototype,
  ObjectPrototypePropertyIsEnumerable,
  SafeWeakSet,
  StringCharCodeAt,
  StringCtor,
  StringPrototypeValueOf,
  SymbolPrototypeToString,
  uncurryThis,
  WeakSetPrototypeAdd,
  WeakSetPrototypeDelete,
  WeakSetPrototypeHas,
} from './common.js'
export function installJson() {
  const ArrayPrototype = Array.prototype
  const call = uncurryThis
  /** A value JSON cannot carry: `what` it is, at `path` (built while unwinding). */
  class NotJson {
    constructor(what, path = true) {
      this.what = what
      this.path = path ? '' : undefined
    }
  }
  const TOO_LARGE = new NotJson('too large', false)
  const TOO_DEEP = new NotJson('too deep', false)

  function an(name) {
    const c = StringCharCodeAt(name, 0)
    return c === 65 || c === 69 || c === 73 || c === 79 ? `an ${name}` : `a ${name}`
  }

  /** `.key` when `key` is a plain identifier, else `["key"]`. */
  function member(key) {
    for (let i = 0; i < key.length; i++) {
      const c = StringCharCodeAt(key, i)
      const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95
      if (!letter && (i === 0 || c < 48 || c > 57)) return `[${jsonStringify(key)}]`
    }
    return key.length > 0 ? `.${key}` : '[""]'
  }

  const HINTS = {
    Map: 'a Map (JSON has no Map: convert it, e.g. Object.fromEntries(map))',
    Set: 'a Set (JSON has no Set: convert it, e.g. [...set])',
    WeakMap: 'a WeakMap (its entries cannot be read)',
    WeakSet: 'a WeakSet (its entries cannot be read)',
    RegExp: 'a RegExp (send its source as a string)',
    Error: 'an Error (JSON has no Error: send its message as a string, or throw it)',
    Symbol: 'a Symbol',
    BigInt: 'a BigInt (send it as a string, e.g. String(n))',
  }

  function binaryHint(brand) {
    return `${an(brand)} (JSON has no binary data: convert it, e.g. Array.from(bytes) or a base64 string)`
  }

  /**
   * `value` as JSON text: 'R' + JSON, 'N' + why it is not JSON (naming the
   * value under `root`), 'L' when its JSON is over maxBytes UTF-8 bytes, or
   * 'D' + maxDepth when it nests deeper than maxDepth levels.
   * Throws what tenant code (getters, toJSON, Proxy traps) throws.
   */
  function encodeJson(value, root, maxBytes, maxDepth) {
    const seen = new SafeWeakSet()
    let size = 0

    function add(text) {
      size += text.length
      if (size > maxBytes) throw TOO_LARGE
      return text
    }

    function string(text) {
      // UTF-16 length is a lower bound of the UTF-8 length, so this never refuses early.
      if (text.length > maxBytes) throw TOO_LARGE
      return add(jsonStringify(text))
    }

    function number(n) {
      if (!NumberIsFinite(n)) throw new NotJson(`${StringCtor(n)} (JSON has no NaN or Infinity)`)
      return add(StringCtor(n))
    }

    /** Prefixes the failing value's path with `segment` as the failure unwinds. */
    function within(error, segment) {
      if (error instanceof NotJson && error.path !== undefined) error.path = segment + error.path
      return error
    }

    /** JSON text of `value`, or undefined where JSON.stringify leaves a property out. */
    function encode(value, key, depth, applied) {
      switch (typeof value) {
        case 'string':
          return string(value)
        case 'number':
          return number(value)
        case 'boolean':
          return add(value ? 'true' : 'false')
        case 'undefined':
          return undefined
        case 'function':
          throw new NotJson('a function')
        case 'symbol':
          throw new NotJson('a Symbol')
        case 'bigint': {
          const toJSON = applied ? undefined : value.toJSON
          if (typeof toJSON === 'function') return encode(call(toJSON)(value, key), key, depth, true)
          throw new NotJson(HINTS.BigInt)
        }
      }
      if (value === null) return add('null')
      const proto = getPrototypeOf(value)
      const plain = proto === ObjectPrototype || proto === null || proto === ArrayPrototype
      let brand
      if (!applied) {
        if (!plain) {
          brand = brandOf(value)
          if (brand === 'Date' && !NumberIsFinite(DatePrototypeGetTime(value))) throw new NotJson('an invalid Date')
        }
        const toJSON = value.toJSON
        if (typeof toJSON === 'function') return encode(call(toJSON)(value, key), key, depth, true)
      }
      if (depth >= maxDepth) throw TOO_DEEP
      if (!plain || !isArray(value)) {
        brand ??= plain ? undefined : brandOf(value)
        if (brand === 'Number') return number(NumberPrototypeValueOf(value))
        if (brand === 'String') return string(StringPrototypeValueOf(value))
        if (brand === 'Boolean') return add(BooleanPrototypeValueOf(value) ? 'true' : 'false')
        if (brand !== undefined && brand !== 'Date') {
          throw new NotJson(
            HINTS[brand] ?? (ArrayBufferIsView(value) || brand === 'ArrayBuffer' ? binaryHint(brand) : an(brand)),
          )
        }
      }
      if (WeakSetPrototypeHas(seen, value)) throw new NotJson('a circular reference to an object that contains it')
      WeakSetPrototypeAdd(seen, value)
      let text
      if (isArray(value)) text = array(value, depth)
      else text = object(value, depth, plain)
      WeakSetPrototypeDelete(seen, value)
      return text
    }

    function array(list, depth) {
      const length = list.length
      let text = add('[')
      for (let i = 0; i < length; i++) {
        if (i > 0) text += add(',')
        try {
          // Holes and undefined become null, as with JSON.stringify (documented).
          text += encode(list[i], StringCtor(i), depth + 1, false) ?? add('null')
        } catch (error) {
          throw within(error, `[${i}]`)
        }
      }
      return text + add(']')
    }

    function object(value, depth, plain) {
      const symbols = ObjectGetOwnPropertySymbols(value)
      for (let i = 0; i < symbols.length; i++) {
        if (ObjectPrototypePropertyIsEnumerable(value, symbols[i])) {
          throw new NotJson(
            `an object with a Symbol-keyed property ${SymbolPrototypeToString(symbols[i])} (JSON keys are strings)`,
          )
        }
      }
      const keys = ObjectKeys(value)
      if (!plain && keys.length === 0) {
        const name = classNameOf(value)
        if (name === 'Promise') throw new NotJson('a Promise (await it)')
        throw new NotJson(
          `${name === '' ? 'an object' : an(name)} with no own enumerable properties (JSON carries those only)`,
        )
      }
      let text = add('{')
      let first = true
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]
        let json
        try {
          json = encode(value[key], key, depth + 1, false)
        } catch (error) {
          throw within(error, member(key))
        }
        // A property whose value is undefined is left out, as with JSON.stringify (documented).
        if (json === undefined) continue
        text += (first ? '' : add(',')) + string(key) + add(':') + json
        first = false
      }
      return text + add('}')
    }

    try {
      const json = encode(value, '', 0, false)
      return json === undefined ? 'Rnull' : `R${json}`
    } catch (error) {
      if (error === TOO_LARGE) return 'L'
      if (error === TOO_DEEP) return `D${maxDepth}`
      if (error instanceof NotJson)
        return error.path === undefined ? `N${error.what}` : `N${root}${error.path} is ${error.what}`
      throw error
    }
  }

  return encodeJson
}
