// Results JSON cannot carry: every value whose JSON form would lose content is
// RESULT_NOT_JSON naming the value and where it sits; the documented lossless
// conversions pass (isolate-host/README.md, "Values").
import { NotJsonError, toJson } from '@osiris/proto'
import t from 'tap'
import { failure, harness, value } from './adversarial/harness.ts'

const NOT_JSON = 'returned a value that cannot be encoded as JSON: '

/** Expression returned by the function → the exact reason, after "result". */
const REFUSED: [string, string][] = [
  ['new Map([["a", 1]])', 'result is a Map (JSON has no Map: convert it, e.g. Object.fromEntries(map))'],
  ['{ counts: new Map() }', 'result.counts is a Map (JSON has no Map: convert it, e.g. Object.fromEntries(map))'],
  ['[1, new Set([1])]', 'result[1] is a Set (JSON has no Set: convert it, e.g. [...set])'],
  ['{ w: new WeakMap() }', 'result.w is a WeakMap (its entries cannot be read)'],
  ['{ w: new WeakSet() }', 'result.w is a WeakSet (its entries cannot be read)'],
  [
    '{ bytes: new Uint8Array([1, 2]) }',
    'result.bytes is a Uint8Array (JSON has no binary data: convert it, e.g. Array.from(bytes) or a base64 string)',
  ],
  [
    '{ "a b": new ArrayBuffer(2) }',
    'result["a b"] is an ArrayBuffer (JSON has no binary data: convert it, e.g. Array.from(bytes) or a base64 string)',
  ],
  [
    'new DataView(new ArrayBuffer(1))',
    'result is a DataView (JSON has no binary data: convert it, e.g. Array.from(bytes) or a base64 string)',
  ],
  ['{ n: 10n }', 'result.n is a BigInt (send it as a string, e.g. String(n))'],
  ['[NaN]', 'result[0] is NaN (JSON has no NaN or Infinity)'],
  ['{ x: -Infinity }', 'result.x is -Infinity (JSON has no NaN or Infinity)'],
  ['{ when: new Date(NaN) }', 'result.when is an invalid Date'],
  ['{ re: /a+/g }', 'result.re is a RegExp (send its source as a string)'],
  ['{ err: new Error("x") }', 'result.err is an Error (JSON has no Error: send its message as a string, or throw it)'],
  ['{ cb() {} }', 'result.cb is a function'],
  ['[() => 1]', 'result[0] is a function'],
  ['{ s: Symbol("s") }', 'result.s is a Symbol'],
  ['{ [Symbol("k")]: 1 }', 'result is an object with a Symbol-keyed property Symbol(k) (JSON keys are strings)'],
  [
    '{ c: new (class Counter { #n = 1; get n() { return this.#n } })() }',
    'result.c is a Counter with no own enumerable properties (JSON carries those only)',
  ],
  ['{ p: Promise.resolve(1) }', 'result.p is a Promise (await it)'],
  [
    '{ deep: { list: [{ m: new Map() }] } }',
    'result.deep.list[0].m is a Map (JSON has no Map: convert it, e.g. Object.fromEntries(map))',
  ],
  ['{ t: { toJSON() { return new Set() } } }', 'result.t is a Set (JSON has no Set: convert it, e.g. [...set])'],
  ['{ o: Object(Symbol("boxed")) }', 'result.o is a Symbol'],
]

/** Expression → the JSON it becomes, by the documented conversions. */
const CONVERTED: [string, unknown][] = [
  ['-0', 0],
  ['{ d: new Date(0) }', { d: '1970-01-01T00:00:00.000Z' }],
  ['[1, , 3]', [1, null, 3]],
  ['[undefined, 2]', [null, 2]],
  ['{ gone: undefined, kept: 1 }', { kept: 1 }],
  ['undefined', null],
  ['new (class Point { constructor() { this.x = 1; this.y = 2 } })()', { x: 1, y: 2 }],
  ['{ get live() { return "read" } }', { live: 'read' }],
  ['{ n: new Number(3), s: new String("s"), b: new Boolean(false) }', { n: 3, s: 's', b: false }],
  ['{ big: { toJSON() { return "10" } } }', { big: '10' }],
  ['Object.assign(Object.create(null), { a: 1 })', { a: 1 }],
  ['{ url: new URL("https://example.com/a") }', { url: 'https://example.com/a' }],
]

t.test('every value JSON would lose is RESULT_NOT_JSON naming its type and place', async (t) => {
  const h = await harness(t)
  const source = REFUSED.map(([expr], i) => `export function refused${i}() { return ${expr} }`).join('\n')
  const mod = await h.deploy(source)
  for (const [i, [expr, why]] of REFUSED.entries()) {
    const error = await failure(mod.call(`refused${i}`))
    t.equal(error.code, 'RESULT_NOT_JSON', expr)
    t.equal(error.message, `function "refused${i}" ${NOT_JSON}${why}`, expr)
  }
})

t.test('the documented lossless conversions', async (t) => {
  const h = await harness(t)
  const source = CONVERTED.map(([expr], i) => `export function converted${i}() { return ${expr} }`).join('\n')
  const mod = await h.deploy(source)
  for (const [i, [expr, expected]] of CONVERTED.entries()) {
    t.same(await value(mod.call(`converted${i}`)), expected, expr)
  }
  t.equal((await mod.call('converted0')).result, '0', '-0 is sent as 0')
})

t.test('the issue case: a tally in a Map is refused, not answered as {}', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(
    'export function tally(words) { const m = new Map(); for (const w of words) m.set(w, (m.get(w) ?? 0) + 1); return m }',
  )
  const error = await failure(mod.call('tally', { args: [['a', 'b', 'a']] }))
  t.equal(error.code, 'RESULT_NOT_JSON')
  t.equal(
    error.message,
    `function "tally" ${NOT_JSON}result is a Map (JSON has no Map: convert it, e.g. Object.fromEntries(map))`,
  )
})

t.test('a tenant that replaces the built-ins the encoder would use still gets the same verdicts', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function poisoned() {
  Map.prototype.forEach = () => {}
  Object.defineProperty(Map.prototype, 'size', { get() { throw new Error('poisoned size') } })
  WeakSet.prototype.has = () => false
  WeakSet.prototype.add = () => {}
  Object.keys = () => []
  String.prototype.charCodeAt = () => 0
  Function.prototype.call = () => 'hijacked'
  return { m: new Map() }
}
export function plain() { Object.keys = () => []; WeakSet.prototype.has = () => true; return { a: [1, { b: 2 }] } }`)
  const error = await failure(mod.call('poisoned'))
  t.equal(
    error.message,
    `function "poisoned" ${NOT_JSON}result.m is a Map (JSON has no Map: convert it, e.g. Object.fromEntries(map))`,
  )
  t.same(await value(mod.call('plain')), { a: [1, { b: 2 }] })
})

t.test("the SDK's argument encoder (proto json-value.ts) follows the same rules", async (t) => {
  const evaluate = (expr: string): unknown => new Function(`return (${expr})`)()
  for (const [expr, why] of REFUSED) {
    t.throws(() => toJson(evaluate(expr), 'args[0]'), new NotJsonError('', '').constructor, expr)
    try {
      toJson(evaluate(expr), 'args[0]')
    } catch (error) {
      t.equal((error as Error).message, why.replace(/^result/, 'args[0]'), expr)
    }
  }
  for (const [expr, expected] of CONVERTED) {
    t.same(JSON.parse(toJson(evaluate(expr), 'args[0]') ?? 'null'), expected, expr)
  }
})
