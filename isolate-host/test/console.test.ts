// What a function's console output, uncaught errors and stray promise
// rejections leave in its logs: console arguments formatted as Node's
// util.inspect does, errors with their stack and cause, and the call's own
// outcome unchanged by a rejection nobody handled.
import t from 'tap'
import { failure, harness, until, value } from './adversarial/harness.ts'

t.test('console arguments are formatted as Node formats them', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
class Point { constructor(x, y) { this.x = x; this.y = y } }
class Hidden { #secret = 1 }
export function show(which) {
  const cases = {
    plain: () => console.log('got', 5, { a: 1, s: "it's", list: [1, 'two'] }),
    nested: () => console.log({ a: { b: { c: { d: 1 } } }, list: [1, [2, [3, [4]]]] }),
    cycle: () => { const o = { name: 'root' }; o.self = o; console.log(o) },
    collections: () => console.log(new Map([['a', 1], ['b', { c: 2 }]]), new Set([1, 'x']), new WeakMap()),
    classes: () => console.log(new Point(1, 2), new Hidden(), Object.create(null)),
    scalars: () => console.log(-0, 10n, Symbol('s'), undefined, null, true, new Date(0), /ab+c/gi),
    functions: () => console.log(function named() {}, () => {}, class Foo {}, async function af() {}),
    arrays: () => console.log([1, , 3], new Array(3), new Uint8Array([1, 2]), Array.from({ length: 101 }, (_, i) => i).length),
    objects: () => console.log({ get g() { throw new Error('not run') }, 'a-b': 2, [Symbol('k')]: 3 }),
    format: () => console.log('%s is %d years, %i, %j and %o %%', 'ada', 36.5, 7.9, { j: 1 }, { o: [1] }, 'extra'),
    long: () => console.log({ long: 'x'.repeat(30), longer: 'y'.repeat(30), longest: 'z'.repeat(30) }),
    string: () => console.log(['multi\\nline', 'tab\\t']),
  }
  cases[which]()
  return which
}`)
  const expected: Record<string, string> = {
    plain: `got 5 { a: 1, s: "it's", list: [ 1, 'two' ] }`,
    nested: '{ a: { b: { c: [Object] } }, list: [ 1, [ 2, [Array] ] ] }',
    cycle: "<ref *1> { name: 'root', self: [Circular *1] }",
    collections: "Map(2) { 'a' => 1, 'b' => { c: 2 } } Set(2) { 1, 'x' } WeakMap { <items unknown> }",
    classes: 'Point { x: 1, y: 2 } Hidden {} [Object: null prototype] {}',
    scalars: '-0 10n Symbol(s) undefined null true 1970-01-01T00:00:00.000Z /ab+c/gi',
    functions: '[Function: named] [Function (anonymous)] [class Foo] [AsyncFunction: af]',
    arrays: '[ 1, <1 empty item>, 3 ] [ <3 empty items> ] Uint8Array(2) [ 1, 2 ] 101',
    objects: "{ g: [Getter], 'a-b': 2, [Symbol(k)]: 3 }",
    format: 'ada is 36.5 years, 7, {"j":1} and { o: [ 1 ] } % extra',
    long: `{\n  long: '${'x'.repeat(30)}',\n  longer: '${'y'.repeat(30)}',\n  longest: '${'z'.repeat(30)}'\n}`,
    string: "[ 'multi\\nline', 'tab\\t' ]",
  }
  for (const [which, line] of Object.entries(expected)) {
    const callId = `show-${which}`
    await mod.call('show', { args: [which], callId })
    t.same(
      h.logs.filter((l) => l.callId === callId).map((l) => [l.level, l.line]),
      [['info', line]],
      which,
    )
  }
})

t.test('an error logged in a catch shows its name, message, stack, own properties and cause', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(
    `export function parse(text) {
  try {
    JSON.parse(text)
  } catch (cause) {
    const err = new Error('parse failed', { cause })
    err.code = 'E_PARSE'
    console.error('parse failed:', err)
  }
  return 'logged'
}`,
    'parser',
  )
  await mod.call('parse', { args: ['{oops'], callId: 'parse-1' })
  const lines = h.logs.filter((l) => l.callId === 'parse-1')
  t.equal(lines.length, 1)
  t.equal(lines[0]?.level, 'error')
  t.match(
    lines[0]?.line,
    /^parse failed: Error: parse failed\n {4}at parse \(parser\.js:5:17\) \{\n {2}code: 'E_PARSE',\n {2}\[cause\]: SyntaxError: Expected property name or '\}' in JSON at position 1 \(line 1 column 2\)\n {6}at JSON\.parse \(<anonymous>\)\n {6}at parse \(parser\.js:3:10\)\n\}$/,
  )
  t.notMatch(lines[0]?.line, /osiris:runtime/, 'no frame of the runtime')
})

t.test('an uncaught error is logged at level error with its stack, and the call is FUNCTION_ERROR', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(
    'export async function boom() {\n  await null\n  throw new RangeError("out of range")\n}',
    'thrower',
  )
  const error = await failure(mod.call('boom', { callId: 'boom-1' }))
  t.equal(error.code, 'FUNCTION_ERROR')
  t.equal(error.message, 'function "boom" threw RangeError: out of range')
  t.same(
    h.logs.filter((l) => l.callId === 'boom-1').map((l) => [l.level, l.line]),
    [['error', 'Uncaught RangeError: out of range\n    at boom (thrower.js:3:9)']],
  )
})

t.test('a stray rejection is logged with its stack; the call answers its own outcome', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(
    `export function floatingReject() { Promise.reject(new Error('nobody handles me')); return 'returned normally' }
export async function timerReject() {
  setTimeout(() => { Promise.reject(new TypeError('from a timer')) }, 1)
  await new Promise((resolve) => setTimeout(resolve, 50))
  return 'awaited'
}
export async function rejectThenThrow() { Promise.reject('a string reason'); await null; throw new Error('own failure') }
export function count() { return 1 }`,
    'stray',
  )
  t.equal(await value(mod.call('floatingReject', { callId: 'stray-1' })), 'returned normally')
  t.same(
    h.logs.filter((l) => l.callId === 'stray-1').map((l) => [l.level, l.line]),
    [['error', 'Uncaught (in promise) Error: nobody handles me\n    at floatingReject (stray.js:1:51)']],
  )
  const timed = await mod.call('timerReject', { callId: 'stray-2', timeoutMs: 5000 })
  t.equal(timed.result, '"awaited"', 'not DEADLINE_EXCEEDED')
  t.same(
    h.logs.filter((l) => l.callId === 'stray-2').map((l) => [l.level, l.line]),
    [['error', 'Uncaught (in promise) TypeError: from a timer\n    at stray.js:3:37']],
  )
  const own = await failure(mod.call('rejectThenThrow', { callId: 'stray-3' }))
  t.equal(own.code, 'FUNCTION_ERROR', "the call's own failure stands")
  t.equal(own.message, 'function "rejectThenThrow" threw Error: own failure')
  t.ok(
    await until(() =>
      h.logs.some((l) => l.callId === 'stray-3' && l.line === "Uncaught (in promise) 'a string reason'"),
    ),
  )
  const after = await mod.call('count')
  t.equal(after.coldStart, false, 'the instance was not disposed: no limit was breached')
})
