// Part of the isolate runtime: structuredClone, in plain JavaScript so the
// value never leaves the isolate (a copy through the host would put tenant
// data on the host's heap, outside the isolate's memory limit). Covers the
// serializable types of the HTML spec that exist here; anything else is a DataCloneError.
import { defineGlobal, getPrototypeOf, isArray, namedError, objectDefine, SafeMap, StringCtor } from './common.js'
export function installClone(global) {
  const TypedArray = getPrototypeOf(Int8Array)
  const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArray.prototype, Symbol.toStringTag).get
  const errorNames = ['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError']
  const toStringTag = (value) => Object.prototype.toString.call(value).slice(8, -1)
  function fail(what) {
    throw namedError('DataCloneError', `${what} could not be cloned`)
  }

  function clone(value, memory) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
      if (typeof value === 'symbol') fail('a Symbol')
      return value
    }
    if (typeof value === 'function') fail(`function ${value.name || '(anonymous)'}`)
    const seen = memory.get(value)
    if (seen !== undefined) return seen
    const tag = toStringTag(value)
    let copy
    if (isArray(value)) copy = new Array(value.length)
    else if (value instanceof Date || tag === 'Date') copy = new Date(Date.prototype.getTime.call(value))
    else if (tag === 'RegExp') copy = new RegExp(value.source, value.flags)
    else if (tag === 'Boolean') copy = Object(Boolean.prototype.valueOf.call(value))
    else if (tag === 'Number') copy = Object(Number.prototype.valueOf.call(value))
    else if (tag === 'String') copy = Object(String.prototype.valueOf.call(value))
    else if (tag === 'BigInt') copy = Object(BigInt.prototype.valueOf.call(value))
    else if (tag === 'ArrayBuffer') copy = ArrayBuffer.prototype.slice.call(value, 0)
    else if (typedArrayTag.call(value) !== undefined) {
      const buffer = clone(value.buffer, memory)
      copy = new global[typedArrayTag.call(value)](buffer, value.byteOffset, value.length)
    } else if (tag === 'DataView') copy = new DataView(clone(value.buffer, memory), value.byteOffset, value.byteLength)
    else if (tag === 'Map') copy = new Map()
    else if (tag === 'Set') copy = new Set()
    else if (tag === 'Error') {
      const name = errorNames.includes(value.name) ? value.name : 'Error'
      copy = new global[name](StringCtor(value.message))
      if (typeof value.stack === 'string')
        objectDefine(copy, 'stack', { value: value.stack, writable: true, configurable: true })
    } else if (tag === 'Object' || tag === 'Arguments') copy = {}
    else fail(`a ${tag}`)
    memory.set(value, copy)
    if (tag === 'Map')
      for (const [k, v] of Map.prototype.entries.call(value)) copy.set(clone(k, memory), clone(v, memory))
    else if (tag === 'Set') for (const v of Set.prototype.values.call(value)) copy.add(clone(v, memory))
    else if (isArray(value) || tag === 'Object' || tag === 'Arguments') {
      for (const key of Object.keys(value)) {
        objectDefine(copy, key, {
          value: clone(value[key], memory),
          writable: true,
          enumerable: true,
          configurable: true,
        })
      }
    }
    return copy
  }

  defineGlobal(global, 'structuredClone', function structuredClone(value, options) {
    if (options !== undefined && options !== null && options.transfer !== undefined && options.transfer.length > 0) {
      fail('a transfer list')
    }
    return clone(value, new SafeMap())
  })
}
