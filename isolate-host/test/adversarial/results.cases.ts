// Adversarial cases: hostile arguments and results. Prototype pollution
// through JSON keys, Proxies, throwing getters, toJSON, then-hijacks,
// thenables, Symbol-keyed and non-serialisable values.
import type { Case } from './corpus.ts'

const NOT_JSON = 'function "attack" returned a value that cannot be encoded as JSON: '

export const RESULT_CASES: Case[] = [
  {
    name: 'prototype pollution through __proto__ and constructor keys in JSON arguments',
    source: `export function attack(a, b) {
  const probe = {}
  return { keys: [Object.keys(a), Object.keys(b)], polluted: probe.polluted ?? null, protoIntact: Object.getPrototypeOf(a) === Object.prototype, viaConstructor: ({}).constructor.prototype.polluted ?? null }
}`,
    json: ['{"__proto__": {"polluted": "yes"}}', '{"constructor": {"prototype": {"polluted": "yes"}}}'],
    expect: {
      result: { keys: [['__proto__'], ['constructor']], polluted: null, protoIntact: true, viaConstructor: null },
    },
  },
  {
    name: 'prototype pollution through __proto__ and constructor keys in a result (the host must not apply them)',
    source: `export function attack() {
  return JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "toString": "x"}')
}`,
    expect: {
      result: JSON.parse(
        '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "toString": "x"}',
      ),
    },
  },
  {
    name: "polluting the isolate's own Object.prototype and Array.prototype, then returning plain data",
    source: `export function attack() {
  Object.prototype.polluted = 'inside'
  Array.prototype.extra = 'inside'
  Object.prototype.toJSON = undefined
  return { a: [1, 2], own: 'x' }
}`,
    expect: { result: { a: [1, 2], own: 'x' } },
  },
  {
    name: 'a Proxy result whose ownKeys trap throws',
    source: `export function attack() { return new Proxy({ a: 1 }, { ownKeys() { throw new Error('trap says no') } }) }`,
    expect: { code: 'RESULT_NOT_JSON', message: `${NOT_JSON}trap says no` },
  },
  {
    name: 'a Proxy result that lies: keys it does not have, values from a get trap',
    source: `export function attack() {
  return new Proxy({}, { ownKeys: () => ['x', 'y'], getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }), get: (_, k) => 'got ' + String(k) })
}`,
    expect: { result: { x: 'got x', y: 'got y' } },
  },
  {
    name: 'a result with a throwing getter',
    source: `export function attack() { return { ok: 1, get bad() { throw new TypeError('getter threw') } } }`,
    expect: { code: 'RESULT_NOT_JSON', message: `${NOT_JSON}getter threw` },
  },
  {
    name: 'toJSON returning a 20 MB string (over the 1 MiB result limit)',
    source: `export function attack() { return { toJSON() { return 'z'.repeat(20e6) } } }`,
    expect: {
      code: 'PAYLOAD_TOO_LARGE',
      message: 'function "attack" returned more than its limit of 1048576 bytes of JSON',
      breach: 'result',
    },
  },
  {
    name: 'toJSON that never returns',
    source: `export function attack() { return { toJSON() { for (;;) {} } } }`,
    timeoutMs: 200,
    expect: { code: 'DEADLINE_EXCEEDED', message: 'function "attack" ran past its 200 ms timeout', breach: 'time' },
  },
  {
    name: 'toJSON that returns a fresh object with a toJSON, endlessly deep',
    source: `export function attack() { const deep = () => ({ toJSON() { return [deep()] } }); return deep() }`,
    expect: { code: 'RESULT_NOT_JSON', message: `${NOT_JSON}it nests deeper than 128 levels`, breach: 'result' },
  },
  {
    name: 'then-hijack: Object.prototype.then makes every returned object a thenable',
    source: `export function attack() {
  Object.prototype.then = function (resolve) { delete Object.prototype.then; resolve('hijacked by then') }
  return { plain: true }
}`,
    expect: { result: 'hijacked by then' },
  },
  {
    name: 'a thenable result that never calls back',
    source: `export function attack() { return { then() {} } }`,
    timeoutMs: 200,
    expect: { code: 'DEADLINE_EXCEEDED', message: 'function "attack" ran past its 200 ms timeout', breach: 'time' },
  },
  {
    name: 'a thenable that resolves with itself forever',
    source: `export function attack() { const t = { then(resolve) { resolve(t) } }; return t }`,
    timeoutMs: 200,
    expect: { code: 'DEADLINE_EXCEEDED', message: 'function "attack" ran past its 200 ms timeout', breach: 'time' },
  },
  {
    name: 'a thenable whose then getter throws',
    source: `export function attack() { return { get then() { throw new Error('then getter') } } }`,
    expect: { code: 'FUNCTION_ERROR', message: 'function "attack" threw Error: then getter' },
  },
  {
    name: 'Symbol-keyed properties in a result are refused, not dropped',
    source: `export function attack() { return { [Symbol('secret')]: 'hidden', [Symbol.toPrimitive]: () => 1, shown: 1 } }`,
    expect: {
      code: 'RESULT_NOT_JSON',
      message: `${NOT_JSON}result is an object with a Symbol-keyed property Symbol(secret) (JSON keys are strings)`,
    },
  },
  {
    name: 'a Symbol as the result',
    source: `export function attack() { return Symbol('s') }`,
    expect: { code: 'RESULT_NOT_JSON', message: `${NOT_JSON}result is a Symbol` },
  },
  {
    name: 'a function as the result',
    source: `export function attack() { return function hostile() {} }`,
    expect: { code: 'RESULT_NOT_JSON', message: `${NOT_JSON}result is a function` },
  },
  {
    name: 'a BigInt nested in the result',
    source: `export function attack() { return { n: [1n] } }`,
    expect: {
      code: 'RESULT_NOT_JSON',
      message: `${NOT_JSON}result.n[0] is a BigInt (send it as a string, e.g. String(n))`,
    },
  },
  {
    name: 'non-serialisable values nested in a result: the first one JSON would lose is named',
    source: `export function attack() { return { u: undefined, d: new Date(0), list: [undefined, 1], n: NaN, f() {}, m: new Map([[1, 2]]) } }`,
    expect: { code: 'RESULT_NOT_JSON', message: `${NOT_JSON}result.n is NaN (JSON has no NaN or Infinity)` },
  },
  {
    name: 'a deeply nested JSON argument (100 000 levels) parsed and echoed back',
    source: `export function attack(deep) { let d = 0; for (let v = deep; Array.isArray(v); v = v[0]) d++; return d === 100000 ? deep : 'wrong depth ' + d }`,
    json: [`${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    timeoutMs: 10_000,
    expect: { code: 'RESULT_NOT_JSON', message: `${NOT_JSON}it nests deeper than 128 levels`, breach: 'result' },
  },
]
