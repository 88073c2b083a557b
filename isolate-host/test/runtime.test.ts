// The runtime inside the isolate: exactly the globals DESIGN.md lists, each
// working as on the web, through the real executor path.
import t from 'tap'
import { failure, harness, value } from './adversarial/harness.ts'

// Own property names of the global object. Adding one is a deliberate change: edit this list.
const GLOBALS = [
  'AggregateError',
  'Array',
  'ArrayBuffer',
  'AsyncDisposableStack',
  'Atomics',
  'BigInt',
  'BigInt64Array',
  'BigUint64Array',
  'Boolean',
  'DataView',
  'Date',
  'DisposableStack',
  'Error',
  'EvalError',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'Function',
  'Infinity',
  'Int16Array',
  'Int32Array',
  'Int8Array',
  'Intl',
  'Iterator',
  'JSON',
  'Map',
  'Math',
  'NaN',
  'Number',
  'Object',
  'Promise',
  'Proxy',
  'RangeError',
  'ReferenceError',
  'Reflect',
  'RegExp',
  'Set',
  'String',
  'SuppressedError',
  'Symbol',
  'SyntaxError',
  'TextDecoder',
  'TextEncoder',
  'TypeError',
  'URIError',
  'URL',
  'URLSearchParams',
  'Uint16Array',
  'Uint32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'WeakMap',
  'WeakRef',
  'WeakSet',
  'atob',
  'btoa',
  'clearInterval',
  'clearTimeout',
  'console',
  'crypto',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'eval',
  'fetch',
  'globalThis',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'setInterval',
  'setTimeout',
  'structuredClone',
  'undefined',
  'unescape',
]

t.test('the global object holds exactly the pinned names', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(
    'export function names() { return Reflect.ownKeys(globalThis).map(String).sort() }\nexport function symbols() { return Object.getOwnPropertySymbols(globalThis).map(String) }',
  )
  t.same(await value(mod.call('names')), [...GLOBALS].sort())
  t.same(await value(mod.call('symbols')), [])
})

t.test('eval and every Function constructor refuse code strings', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
const attempts = {
  eval: () => eval('1 + 1'),
  indirectEval: () => (0, globalThis.eval)('1'),
  newFunction: () => new Function('return 1'),
  callFunction: () => Function('return 1'),
  viaConstructor: () => (() => {}).constructor('return 1'),
  async: () => (async () => {}).constructor('return 1'),
  generator: () => (function* g() {}).constructor('yield 1'),
  asyncGenerator: () => (async function* g() {}).constructor('yield 1'),
  timerString: () => setTimeout('globalThis.x = 1', 0),
}
export function tryAll() {
  const out = {}
  for (const [name, attempt] of Object.entries(attempts)) {
    try { attempt(); out[name] = 'ran' } catch (error) { out[name] = error.name + ': ' + error.message }
  }
  return out
}
export function stillWorks() { return [typeof Function, (() => 1) instanceof Function, Function.prototype === Object.getPrototypeOf(() => 1), Function.name] }
`)
  const disabled = 'EvalError: code generation from strings is disabled in Osiris functions'
  t.same(await value(mod.call('tryAll')), {
    eval: disabled,
    indirectEval: disabled,
    newFunction: disabled,
    callFunction: disabled,
    viaConstructor: disabled,
    async: disabled,
    generator: disabled,
    asyncGenerator: disabled,
    timerString: 'TypeError: setTimeout and setInterval take a function (code strings are not allowed)',
  })
  t.same(await value(mod.call('stillWorks')), ['function', true, true, 'Function'])
})

t.test('Array.prototype.fill (replaced by an interruptible one) keeps its semantics', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function fills() {
  const like = { length: 3 }
  Array.prototype.fill.call(like, 'x', 1)
  let threw = ''
  try { Array.prototype.fill.call(null, 1) } catch (e) { threw = e.name }
  return [[1, 2, 3, 4].fill(0), [1, 2, 3, 4].fill(9, 1, 3), [1, 2, 3, 4].fill(7, -2), [1, 2, 3].fill(5, -5, -1), Array(3).fill(), like, threw, Array.prototype.fill.length, [].fill.name]
}`)
  t.same(await value(mod.call('fills')), [
    [0, 0, 0, 0],
    [1, 9, 9, 4],
    [1, 2, 7, 7],
    [5, 5, 3],
    [null, null, null],
    { 1: 'x', 2: 'x', length: 3 },
    'TypeError',
    1,
    'fill',
  ])
})

t.test('TextEncoder and TextDecoder (UTF-8)', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function roundTrip(text) { return new TextDecoder().decode(new TextEncoder().encode(text)) }
export function bytes(text) { return Array.from(new TextEncoder().encode(text)) }
export function decode(bytes, fatal) {
  try { return new TextDecoder('utf-8', { fatal }).decode(new Uint8Array(bytes)) } catch (e) { return e.name + ': ' + e.message }
}
export function streamed(chunks) {
  const d = new TextDecoder()
  return chunks.map((c, i) => d.decode(new Uint8Array(c), { stream: i < chunks.length - 1 })).join('')
}
export function into(text, size) { const out = new Uint8Array(size); const r = new TextEncoder().encodeInto(text, out); return [r.read, r.written, Array.from(out)] }
export function label(l) { try { return new TextDecoder(l).encoding } catch (e) { return e.name } }
`)
  for (const text of ['', 'héllo', '日本語', '🙂 emoji', 'a\u0000b']) {
    t.equal(await value(mod.call('roundTrip', { args: [text] })), text)
    t.same(await value(mod.call('bytes', { args: [text] })), [...Buffer.from(text)])
  }
  t.same(
    await value(mod.call('bytes', { json: ['"\\ud800x"'] })),
    [0xef, 0xbf, 0xbd, 0x78],
    'a lone surrogate encodes as U+FFFD',
  )
  t.equal(await value(mod.call('decode', { args: [[0xef, 0xbb, 0xbf, 0x61], false] })), 'a', 'the BOM is dropped')
  t.equal(await value(mod.call('decode', { args: [[0x61, 0xff, 0xe2, 0x82, 0x62], false] })), 'a\ufffd\ufffdb')
  t.equal(
    await value(mod.call('decode', { args: [[0x61, 0xff], true] })),
    'TypeError: The encoded data was not valid UTF-8',
  )
  t.equal(
    await value(
      mod.call('streamed', {
        args: [
          [
            [0xe6, 0x97],
            [0xa5, 0x61],
          ],
        ],
      }),
    ),
    '日a',
    'a sequence split across chunks',
  )
  t.same(await value(mod.call('into', { args: ['aé🙂', 4] })), [2, 3, [0x61, 0xc3, 0xa9, 0]])
  t.equal(await value(mod.call('label', { args: [' UTF8 '] })), 'utf-8')
  t.equal(await value(mod.call('label', { args: ['latin1'] })), 'RangeError')
})

t.test('atob and btoa', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function enc(s) { try { return btoa(s) } catch (e) { return e.name } }
export function dec(s) { try { return atob(s) } catch (e) { return e.name } }
`)
  for (const text of ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar', '\u00ff\u0000\u0080']) {
    t.equal(await value(mod.call('enc', { args: [text] })), Buffer.from(text, 'latin1').toString('base64'))
    t.equal(await value(mod.call('dec', { args: [Buffer.from(text, 'latin1').toString('base64')] })), text)
  }
  t.equal(await value(mod.call('dec', { args: ['Zm9v YmE='] })), 'fooba', 'whitespace is ignored')
  t.equal(await value(mod.call('dec', { args: ['Zm9vYmE'] })), 'fooba', 'padding is optional')
  t.equal(await value(mod.call('dec', { args: ['Z'] })), 'InvalidCharacterError')
  t.equal(await value(mod.call('dec', { args: ['Zm9v!'] })), 'InvalidCharacterError')
  t.equal(await value(mod.call('enc', { args: ['日本'] })), 'InvalidCharacterError')
})

t.test('URL and URLSearchParams', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function parts(input, base) {
  const u = new URL(input, base)
  return { href: u.href, origin: u.origin, protocol: u.protocol, host: u.host, hostname: u.hostname, port: u.port, pathname: u.pathname, search: u.search, hash: u.hash, username: u.username, q: u.searchParams.get('q') }
}
export function invalid(input) { try { new URL(input); return 'parsed' } catch (e) { return e.name } }
export function edit() {
  const u = new URL('https://example.com/a?x=1')
  u.pathname = '/b c'
  u.searchParams.append('y', 'two words')
  u.searchParams.set('x', '3')
  u.hash = 'top'
  u.port = '8443'
  const before = u.href
  u.search = '?z=9'
  return [before, u.href, u.searchParams.get('z'), u.searchParams.get('x'), String(u), JSON.stringify({ u })]
}
export function params() {
  const p = new URLSearchParams('a=1&b=%20x+y&a=2&c')
  const out = [p.getAll('a'), p.get('b'), p.get('c'), p.has('a', '2'), p.size]
  p.delete('a', '1'); p.sort(); p.append('é', '&=')
  out.push(p.toString(), [...p.keys()], new URLSearchParams({ k: 'v' }).toString(), new URLSearchParams([['x', 'y']]).toString())
  return out
}
export function statics() { return [URL.canParse('nope'), URL.canParse('/p', 'http://h'), URL.parse('::') === null] }
`)
  t.same(await value(mod.call('parts', { args: ['https://user@例え.jp:8080/p/../q?q=1#h'] })), {
    href: 'https://user@xn--r8jz45g.jp:8080/q?q=1#h',
    origin: 'https://xn--r8jz45g.jp:8080',
    protocol: 'https:',
    host: 'xn--r8jz45g.jp:8080',
    hostname: 'xn--r8jz45g.jp',
    port: '8080',
    pathname: '/q',
    search: '?q=1',
    hash: '#h',
    username: 'user',
    q: '1',
  })
  t.same(await value(mod.call('parts', { args: ['../x?q=%C3%A9', 'http://h/a/b/c'] })), {
    href: 'http://h/a/x?q=%C3%A9',
    origin: 'http://h',
    protocol: 'http:',
    host: 'h',
    hostname: 'h',
    port: '',
    pathname: '/a/x',
    search: '?q=%C3%A9',
    hash: '',
    username: '',
    q: 'é',
  })
  t.equal(await value(mod.call('invalid', { args: ['not a url'] })), 'TypeError')
  t.same(await value(mod.call('edit')), [
    'https://example.com:8443/b%20c?x=3&y=two+words#top',
    'https://example.com:8443/b%20c?z=9#top',
    '9',
    null,
    'https://example.com:8443/b%20c?z=9#top',
    '{"u":"https://example.com:8443/b%20c?z=9#top"}',
  ])
  t.same(await value(mod.call('params')), [
    ['1', '2'],
    ' x y',
    '',
    true,
    4,
    'a=2&b=+x+y&c=&%C3%A9=%26%3D',
    ['a', 'b', 'c', 'é'],
    'k=v',
    'x=y',
  ])
  t.same(await value(mod.call('statics')), [false, true, true])
})

t.test('structuredClone', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function deep() {
  const o = { n: 1, s: 'x', d: new Date(5), r: /a+/gi, m: new Map([[1, { a: 1 }]]), set: new Set([1, 2]), u8: new Uint8Array([1, 2, 3]), big: 10n, e: new RangeError('boom'), arr: [1, , 3] }
  o.self = o
  const c = structuredClone(o)
  return [c !== o, c.self === c, c.d instanceof Date && c.d.getTime(), c.r.source + c.r.flags, c.m.get(1).a, c.m.get(1) !== o.m.get(1), [...c.set], Array.from(c.u8), c.u8.buffer !== o.u8.buffer, typeof c.big, c.e instanceof RangeError && c.e.message, 1 in c.arr]
}
export function refuses(kind) {
  const values = { fn: () => 1, sym: Symbol('s'), weak: new WeakMap(), nested: { f() {} } }
  try { structuredClone(values[kind]); return 'cloned' } catch (e) { return e.name + ': ' + e.message }
}
`)
  t.same(await value(mod.call('deep')), [
    true,
    true,
    5,
    'a+gi',
    1,
    true,
    [1, 2],
    [1, 2, 3],
    true,
    'bigint',
    'boom',
    false,
  ])
  t.equal(await value(mod.call('refuses', { args: ['fn'] })), 'DataCloneError: function fn could not be cloned')
  t.equal(await value(mod.call('refuses', { args: ['sym'] })), 'DataCloneError: a Symbol could not be cloned')
  t.equal(await value(mod.call('refuses', { args: ['weak'] })), 'DataCloneError: a WeakMap could not be cloned')
  t.equal(await value(mod.call('refuses', { args: ['nested'] })), 'DataCloneError: function f could not be cloned')
})

t.test('crypto.getRandomValues and randomUUID', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function uuids(n) { return Array.from({ length: n }, () => crypto.randomUUID()) }
export function fill(size) { return Array.from(crypto.getRandomValues(new Uint8Array(size))) }
export function wrong(kind) {
  try { crypto.getRandomValues(kind === 'float' ? new Float64Array(2) : new Uint8Array(65537)); return 'filled' } catch (e) { return e.name }
}
`)
  const ids = (await value(mod.call('uuids', { args: [2000] }))) as string[]
  t.equal(new Set(ids).size, 2000, 'all distinct, across several refills of the entropy pool')
  t.ok(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)))
  const bytes = (await value(mod.call('fill', { args: [65536] }))) as number[]
  t.ok(new Set(bytes).size > 250, 'bytes cover the range')
  t.equal(await value(mod.call('wrong', { args: ['float'] })), 'TypeMismatchError')
  t.equal(await value(mod.call('wrong', { args: ['big'] })), 'QuotaExceededError')
})

t.test('timers: setTimeout, setInterval and their clears, awaited within the call', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export async function sequence() {
  const seen = []
  const cancelled = setTimeout(() => seen.push('cancelled'), 5)
  clearTimeout(cancelled)
  await new Promise((resolve) => setTimeout(resolve, 20))
  setTimeout((a, b) => seen.push('late ' + a + b), 10, 'x', 'y')
  setTimeout(() => seen.push('early'), 0)
  await new Promise((resolve) => setTimeout(resolve, 30))
  let ticks = 0
  await new Promise((resolve) => { const id = setInterval(() => { if (++ticks === 3) { clearInterval(id); resolve() } }, 1) })
  return [seen, ticks]
}
export async function throwsInTimer() {
  setTimeout(() => { throw new TypeError('in a timer') }, 0)
  await new Promise((resolve) => setTimeout(resolve, 10))
  return 'done'
}
`)
  t.same(await value(mod.call('sequence')), [['early', 'late xy'], 3])
  t.equal(
    await value(mod.call('throwsInTimer', { callId: 'timer-throw' })),
    'done',
    'an uncaught throw in a timer is reported, not fatal',
  )
  t.match(h.logs, [{ level: 'error', line: 'Uncaught TypeError: in a timer', callId: 'timer-throw' }])
})

t.test('the clock is coarse: Date has a 10 ms resolution and still advances during computation', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export async function clock(hostNow) {
  const seen = new Set()
  const start = Date.now()
  while (Date.now() < start + 30) seen.add(Date.now())
  const afterSpin = Date.now()
  await new Promise((resolve) => setTimeout(resolve, 20))
  return {
    allCoarse: [...seen].every((t) => t % 10 === 0),
    steps: seen.size >= 3,
    busyWaitEnded: afterSpin >= start + 30,
    advancedAcrossTimer: Date.now() - afterSpin >= 10,
    close: Math.abs(start - hostNow) < 5000,
    newDate: new Date().getTime() % 10,
    string: typeof Date(),
    parsed: new Date(0).toISOString(),
    performance: typeof performance,
  }
}
`)
  t.same(await value(mod.call('clock', { args: [Date.now()] })), {
    allCoarse: true,
    steps: true,
    busyWaitEnded: true,
    advancedAcrossTimer: true,
    close: true,
    newDate: 0,
    string: 'string',
    parsed: '1970-01-01T00:00:00.000Z',
    performance: 'undefined',
  })
})

t.test('top-level code sees the same clock, and its console output is kept', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(
    'const loadedAt = Date.now()\nconsole.log("loading")\nexport function at() { return [loadedAt % 10, Date.now() >= loadedAt] }',
  )
  t.same(await value(mod.call('at', { callId: 'first' })), [0, true])
  t.match(h.logs, [{ line: 'loading' }])
})

t.test('no Node or isolated-vm objects are reachable', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
export function look() {
  return ['process', 'require', 'module', 'Buffer', 'global', 'ivm', '_ivm', 'performance', 'WebAssembly', 'SharedArrayBuffer', 'FinalizationRegistry', 'queueMicrotask', 'setImmediate']
    .map((name) => name + ':' + typeof globalThis[name])
}
`)
  t.same(await value(mod.call('look')), [
    'process:undefined',
    'require:undefined',
    'module:undefined',
    'Buffer:undefined',
    'global:undefined',
    'ivm:undefined',
    '_ivm:undefined',
    'performance:undefined',
    'WebAssembly:undefined',
    'SharedArrayBuffer:undefined',
    'FinalizationRegistry:undefined',
    'queueMicrotask:undefined',
    'setImmediate:undefined',
  ])
  const err = await failure(mod.call('nope'))
  t.equal(err.code, 'NOT_FOUND')
})
