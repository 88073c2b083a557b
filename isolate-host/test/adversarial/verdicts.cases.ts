// Adversarial cases: forging the host's verdicts and blinding the runtime's
// limits. Tenant code replaces the built-ins the runtime runs on (Map, Array,
// String, the error constructors) or throws the texts isolated-vm's own errors
// carry; the host must decide every outcome from what it observed (its guard's
// clock, the isolate's CPU time, the isolate disposed for its heap limit) and
// check the result itself, and the runtime must use only intrinsics it
// captured before tenant code ran.
import { cutText, GUEST_LIMITS } from '@osiris/proto'
import type { Case } from './corpus.ts'

const ISOLATE_MEMORY = 'Isolate was disposed during execution due to memory limit'
const ISOLATE_TIMEOUT = 'Script execution timed out.'
const NOT_JSON = 'function "attack" returned a value that cannot be encoded as JSON: '

export const VERDICT_CASES: Case[] = [
  {
    name: "Map.prototype.clear replaced to throw isolated-vm's memory-limit text (the runtime clears a call's timers)",
    source: `Map.prototype.clear = function () { throw new Error(${JSON.stringify(ISOLATE_MEMORY)}) }
export function attack() { return 'answered' }`,
    expect: { result: 'answered' },
  },
  {
    name: "Map.prototype.clear replaced to throw isolated-vm's timeout text",
    source: `Map.prototype.clear = function () { throw new Error(${JSON.stringify(ISOLATE_TIMEOUT)}) }
export function attack() { return 'answered' }`,
    expect: { result: 'answered' },
  },
  {
    name: 'Map.prototype.clear replaced to throw any text (it came back as INTERNAL carrying the tenant text)',
    source: `Map.prototype.clear = function () { throw new Error('the platform is broken, call support') }
export function attack() { return 'answered' }`,
    expect: { result: 'answered' },
  },
  {
    name: 'the array iterator replaced to throw the memory-limit text (the runtime destructured its limits with it)',
    source: `Array.prototype[Symbol.iterator] = function () { throw new Error(${JSON.stringify(ISOLATE_MEMORY)}) }
export function attack(a, b) { return a + b }`,
    args: [3, 5],
    expect: { result: 8 },
  },
  {
    name: 'the timer bookkeeping sabotaged (Map iterator, get, delete, size, Array push and sort) with the memory-limit text',
    source: `const boom = function () { throw new Error(${JSON.stringify(ISOLATE_MEMORY)}) }
export async function attack() {
  Map.prototype[Symbol.iterator] = boom
  Map.prototype.entries = boom
  Map.prototype.values = boom
  Map.prototype.get = boom
  Map.prototype.set = boom
  Map.prototype.delete = boom
  Object.defineProperty(Map.prototype, 'size', { get: boom })
  Array.prototype.push = boom
  Array.prototype.sort = boom
  const order = []
  await new Promise((resolve) => { setTimeout(() => { order[order.length] = 'b'; resolve() }, 5); setTimeout(() => { order[order.length] = 'a' }, 1) })
  return order.join('')
}`,
    expect: { result: 'ab' },
  },
  {
    name: 'maxTimers blinded by a Map.prototype.size getter that answers 0',
    source: `export function attack() {
  Object.defineProperty(Map.prototype, 'size', { get() { return 0 } })
  for (let i = 0; i < 50; i++) setTimeout(() => {}, 60000)
  return 'set them all'
}`,
    limits: { maxTimers: 10 },
    expect: {
      code: 'FUNCTION_ERROR',
      message: 'function "attack" threw RangeError: too many pending timers: a call may have at most 10',
    },
  },
  {
    name: "Promise.prototype.then hijacked to reject isolated-vm's own wait on invoke with its memory-limit text",
    // isolated-vm waits on invoke's promise with V8's Then and Catch; were Catch to call `then` by name,
    // the tenant would be handed isolated-vm's rejection callback. It is not (and the host would answer
    // FUNCTION_ERROR, no breach, if it were).
    source: `const realThen = Promise.prototype.then
Promise.prototype.then = function (onFulfilled, onRejected) {
  if (onFulfilled === undefined && typeof onRejected === 'function') onRejected(new Error(${JSON.stringify(ISOLATE_MEMORY)}))
  return realThen.call(this, onFulfilled, onRejected)
}
export function attack() { return 'answered' }`,
    expect: { result: 'answered' },
  },
  {
    name: "a function throwing isolated-vm's own error texts is the function's error, no breach",
    source: `export function attack(which) { throw new Error(which) }`,
    args: [ISOLATE_MEMORY],
    expect: { code: 'FUNCTION_ERROR', message: `function "attack" threw Error: ${ISOLATE_MEMORY}` },
  },
  {
    name: 'RangeError replaced, then a result JSON cannot encode (the runtime asked instanceof RangeError)',
    source: `export function attack() { globalThis.RangeError = 42; return { big: 1n } }`,
    expect: {
      code: 'RESULT_NOT_JSON',
      message: `${NOT_JSON}result.big is a BigInt (send it as a string, e.g. String(n))`,
    },
  },
  {
    name: "toJSON throwing the runtime's own nesting text: RESULT_NOT_JSON, but no result breach",
    source: `export function attack() { return { toJSON() { throw new Error('it nests deeper than 128 levels') } } }`,
    expect: { code: 'RESULT_NOT_JSON', message: `${NOT_JSON}it nests deeper than 128 levels` },
  },
  {
    name: 'the result-depth check blinded by String.prototype.charCodeAt answering a space',
    source: `export function attack() {
  String.prototype.charCodeAt = function () { return 32 }
  let deep = 1
  for (let i = 0; i < 200; i++) deep = [deep]
  return deep
}`,
    expect: { code: 'RESULT_NOT_JSON', message: `${NOT_JSON}it nests deeper than 128 levels`, breach: 'result' },
  },
  {
    name: 'the result-size check blinded by String.prototype.charCodeAt (3-byte characters counted as one)',
    source: `export function attack() {
  String.prototype.charCodeAt = function () { return 32 }
  return '€'.repeat(400000)
}`,
    expect: {
      code: 'PAYLOAD_TOO_LARGE',
      message: 'function "attack" returned more than its limit of 1048576 bytes of JSON',
      breach: 'result',
    },
  },
  {
    name: 'the thrown message cut blinded by String.prototype.slice answering the whole text',
    source: `export function attack() {
  String.prototype.slice = function () { return String(this) }
  throw new Error('m'.repeat(100000))
}`,
    // The runtime's own cut (8192 characters and '…', with the captured slice), then the host's cut in bytes.
    expect: {
      code: 'FUNCTION_ERROR',
      message: `function "attack" threw Error: ${cutText(`${'m'.repeat(8192)}…`, GUEST_LIMITS.message)}`,
    },
  },
  {
    name: 'the console budget blinded by String.prototype.charCodeAt (3-byte characters counted as one)',
    source: `export function attack() {
  String.prototype.charCodeAt = function () { return 32 }
  const line = '€'.repeat(20000)
  for (let i = 0; i < 10; i++) console.log(line)
  return 'logged'
}`,
    expect: { result: 'logged' },
    logs: (lines) => {
      const bytes = lines.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0)
      if (lines.at(-1) !== '[osiris] console output truncated: more than 65536 bytes in this call') {
        throw new Error(`no truncation marker: ${String(lines.at(-1)).slice(0, 80)}`)
      }
      if (lines.length !== 3) throw new Error(`${lines.length} lines, not one whole, one cut and the marker`)
      if (bytes > 65536 + 100) throw new Error(`${bytes} bytes of console output passed a 65536-byte budget`)
    },
  },
]
