// A value as JSON text, refusing what JSON would silently lose: the rules the
// isolate runtime applies to results (isolate-host/src/runtime/json.js), here
// for the arguments clients send. JSON.stringify turns a Map into {}, NaN into
// null and drops functions; these are refused with what and where they are
// (`args[0].counts is a Map`). Lossless conversions are kept: toJSON (a Date
// becomes its ISO string), -0 becomes 0, holes and undefined in arrays become
// null, properties whose value is undefined are left out, boxed primitives
// are unboxed, class instances carry their own enumerable properties.

/** Why a value cannot be sent as JSON: `what` it is, at `path` under the root. */
export class NotJsonError extends Error {
  readonly path: string
  readonly what: string

  constructor(path: string, what: string) {
    super(`${path} is ${what}`)
    this.path = path
    this.what = what
  }

  override get name(): string {
    return 'NotJsonError'
  }
}

const TYPED_ARRAY_TAG = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Int8Array.prototype) as object,
  Symbol.toStringTag,
)?.get as (this: unknown) => string | undefined

const HINTS: Record<string, string> = {
  Map: 'a Map (JSON has no Map: convert it, e.g. Object.fromEntries(map))',
  Set: 'a Set (JSON has no Set: convert it, e.g. [...set])',
  WeakMap: 'a WeakMap (its entries cannot be read)',
  WeakSet: 'a WeakSet (its entries cannot be read)',
  RegExp: 'a RegExp (send its source as a string)',
  Error: 'an Error (JSON has no Error: send its message as a string, or throw it)',
  Symbol: 'a Symbol',
  Promise: 'a Promise (await it)',
  BigInt: 'a BigInt (send it as a string, e.g. String(n))',
}

function an(name: string): string {
  return /^[AEIO]/.test(name) ? `an ${name}` : `a ${name}`
}

function member(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/** The built-in `value` is, by its internal slots, or undefined. */
function brandOf(value: object): string | undefined {
  if (value instanceof Promise) return 'Promise'
  if (value instanceof Map) return 'Map'
  if (value instanceof Set) return 'Set'
  if (value instanceof WeakMap) return 'WeakMap'
  if (value instanceof WeakSet) return 'WeakSet'
  if (ArrayBuffer.isView(value)) return TYPED_ARRAY_TAG.call(value) ?? 'DataView'
  if (value instanceof ArrayBuffer || Object.prototype.toString.call(value) === '[object SharedArrayBuffer]')
    return 'ArrayBuffer'
  if (value instanceof Date) return 'Date'
  if (value instanceof RegExp) return 'RegExp'
  if (value instanceof Error || Object.prototype.toString.call(value) === '[object Error]') return 'Error'
  if (value instanceof Number) return 'Number'
  if (value instanceof String) return 'String'
  if (value instanceof Boolean) return 'Boolean'
  if (value instanceof BigInt) return 'BigInt'
  if (value instanceof Symbol) return 'Symbol'
  return undefined
}

function className(value: object): string {
  const ctor = (Object.getPrototypeOf(value) as { constructor?: unknown } | null)?.constructor
  return typeof ctor === 'function' && typeof ctor.name === 'string' ? ctor.name : ''
}

/**
 * `value` as JSON text, or throws NotJsonError naming the first value under
 * `root` whose JSON form would lose content. Undefined (at the root) answers
 * undefined. Nesting deeper than `maxDepth` arrays and objects is refused.
 */
export function toJson(value: unknown, root: string, maxDepth = 1024): string | undefined {
  const seen = new WeakSet<object>()
  const fail = (path: string, what: string): never => {
    throw new NotJsonError(`${root}${path}`, what)
  }

  function encode(input: unknown, key: string, path: string, depth: number, applied: boolean): string | undefined {
    const v = input
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v)
      case 'number':
        if (!Number.isFinite(v)) fail(path, `${v} (JSON has no NaN or Infinity)`)
        return String(v)
      case 'boolean':
        return v ? 'true' : 'false'
      case 'undefined':
        return undefined
      case 'function':
        return fail(path, 'a function')
      case 'symbol':
        return fail(path, 'a Symbol')
      case 'bigint': {
        const toJSON = applied ? undefined : (v as unknown as { toJSON?: unknown }).toJSON
        if (typeof toJSON === 'function') return encode(toJSON.call(v, key), key, path, depth, true)
        return fail(path, HINTS.BigInt ?? 'a BigInt')
      }
    }
    if (v === null) return 'null'
    const object = v as object
    const proto = Object.getPrototypeOf(object)
    const plain = proto === Object.prototype || proto === null || proto === Array.prototype
    let brand = plain ? undefined : brandOf(object)
    if (!applied) {
      if (brand === 'Date' && Number.isNaN((object as Date).getTime())) fail(path, 'an invalid Date')
      const toJSON = (object as { toJSON?: unknown }).toJSON
      if (typeof toJSON === 'function') return encode(toJSON.call(object, key), key, path, depth, true)
    }
    if (depth >= maxDepth) throw new NotJsonError(root, `nested deeper than ${maxDepth} levels`)
    if (brand === 'Number' || brand === 'String' || brand === 'Boolean') {
      return encode((object as { valueOf(): unknown }).valueOf(), key, path, depth, true)
    }
    if (brand !== undefined && brand !== 'Date') {
      const binary = ArrayBuffer.isView(object) || brand === 'ArrayBuffer'
      const what = binary
        ? `${an(brand)} (JSON has no binary data: convert it, e.g. Array.from(bytes) or a base64 string)`
        : (HINTS[brand] ?? an(brand))
      fail(path, what)
    }
    brand = undefined
    if (seen.has(object)) fail(path, 'a circular reference to an object that contains it')
    seen.add(object)
    let text: string
    if (Array.isArray(object)) {
      text = '['
      for (let i = 0; i < object.length; i++) {
        text += `${i > 0 ? ',' : ''}${encode(object[i], String(i), `${path}[${i}]`, depth + 1, false) ?? 'null'}`
      }
      text += ']'
    } else {
      for (const symbol of Object.getOwnPropertySymbols(object)) {
        if (Object.prototype.propertyIsEnumerable.call(object, symbol)) {
          fail(path, `an object with a Symbol-keyed property ${symbol.toString()} (JSON keys are strings)`)
        }
      }
      const keys = Object.keys(object)
      if (!plain && keys.length === 0) {
        const name = className(object)
        if (name === 'Promise') fail(path, 'a Promise (await it)')
        fail(
          path,
          `${name === '' ? 'an object' : an(name)} with no own enumerable properties (JSON carries those only)`,
        )
      }
      const parts: string[] = []
      for (const k of keys) {
        const json = encode((object as Record<string, unknown>)[k], k, `${path}${member(k)}`, depth + 1, false)
        if (json !== undefined) parts.push(`${JSON.stringify(k)}:${json}`)
      }
      text = `{${parts.join(',')}}`
    }
    seen.delete(object)
    return text
  }

  return encode(value, '', '', 0, false)
}
