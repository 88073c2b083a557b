// Part of the isolate runtime (see runtime-source.ts): takes away what tenant
// code must not have. Code generation from strings is refused (isolated-vm
// allows it; V8 offers no per-context switch through its API), and three
// built-ins go: WebAssembly (its memory is not counted by the isolate's heap
// limit), SharedArrayBuffer (with no threads it only serves as a timer) and
// FinalizationRegistry (its callbacks run outside any call, so outside every limit).
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
  delete global.WebAssembly
  delete global.SharedArrayBuffer
  delete global.FinalizationRegistry
}
