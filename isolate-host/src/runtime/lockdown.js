// Part of the isolate runtime (see runtime-source.ts): takes away what tenant
// code must not have. Code generation from strings is refused (isolated-vm
// allows it; V8 offers no per-context switch through its API), and three
// built-ins go: WebAssembly (its memory is not counted by the isolate's heap
// limit), SharedArrayBuffer (with no threads it only serves as a timer) and
// FinalizationRegistry (its callbacks run outside any call, so outside every limit).
// Array.prototype.fill is replaced by the same algorithm in JavaScript: V8's
// own does not notice termination on a huge holey array and kept allocating
// for seconds past the heap limit (gigabytes of RSS from a 64 MiB isolate).
export function installLockdown(global) {
  const defineProperty = Object.defineProperty
  const getPrototypeOf = Object.getPrototypeOf
  function refuse() {
    throw new EvalError('code generation from strings is disabled in Osiris functions')
  }
  function DisabledFunction() {
    refuse()
  }
  defineProperty(DisabledFunction, 'name', { value: 'Function' })
  defineProperty(DisabledFunction, 'prototype', { value: refuse.constructor.prototype })
  const prototypes = [
    getPrototypeOf(() => {}),
    getPrototypeOf(async () => {}),
    getPrototypeOf(function* generator() {}),
    getPrototypeOf(async function* generator() {}),
  ]
  for (const prototype of prototypes) {
    defineProperty(prototype, 'constructor', { value: DisabledFunction, writable: false, configurable: false })
  }
  function evaluate() {
    refuse()
  }
  defineProperty(evaluate, 'name', { value: 'eval' })
  defineProperty(global, 'eval', { value: evaluate, writable: true, configurable: true })
  defineProperty(global, 'Function', { value: DisabledFunction, writable: true, configurable: true })
  const MathTrunc = Math.trunc
  function relative(value, length, fallback) {
    if (value === undefined) return fallback
    const n = MathTrunc(+value) || 0
    return n < 0 ? Math.max(length + n, 0) : Math.min(n, length)
  }
  function fill(value, start = undefined, end = undefined) {
    if (this === null || this === undefined) throw new TypeError('Array.prototype.fill called on null or undefined')
    const target = Object(this)
    const length = Math.min(Math.max(MathTrunc(+target.length) || 0, 0), Number.MAX_SAFE_INTEGER)
    const last = relative(end, length, length)
    for (let k = relative(start, length, 0); k < last; k++) target[k] = value
    return target
  }
  defineProperty(fill, 'length', { value: 1 })
  defineProperty(Array.prototype, 'fill', { value: fill, writable: true, enumerable: false, configurable: true })
  delete global.WebAssembly
  delete global.SharedArrayBuffer
  delete global.FinalizationRegistry
}
