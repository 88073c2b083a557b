// Adversarial cases: reaching out of the isolate. Constructor-chain walks from
// every value the host hands in, stack-trace tricks, imports, globals.
import type { Case } from './corpus.ts'

const REFUSED = 'EvalError: code generation from strings is disabled in Osiris functions'

/** Tries `return process` through the constructor chain of each value; answers what each walk got. */
const WALK = `
function walk(value) {
  try {
    const F = value.constructor.constructor
    const got = F('return typeof process === "undefined" ? "no process" : process.env.OSIRIS_ADVERSARIAL_CANARY')()
    return 'escaped: ' + got
  } catch (error) { return error.name + ': ' + error.message }
}
`

export const ESCAPE_CASES: Case[] = [
  {
    name: 'constructor-chain walk from every argument (object, array, string, number, boolean, null-proto JSON)',
    source: `${WALK}export function attack(o, a, s, n, b) { return [o, a, s, n, b, o.nested].map(walk) }`,
    args: [{ nested: { deep: 1 } }, [1, 2], 'text', 42, true],
    expect: { result: Array(6).fill(REFUSED) },
  },
  {
    name: 'constructor-chain walk from errors the runtime throws (JSON, URL, timers, atob, structuredClone, crypto)',
    source: `${WALK}
export function attack() {
  const makers = [() => JSON.parse('{'), () => new URL('nope'), () => setTimeout('x'), () => atob('!'), () => structuredClone(() => 1), () => crypto.getRandomValues(new Float32Array(1)), () => new TextDecoder('latin1')]
  return makers.map((make) => { try { make(); return 'no error' } catch (error) { return [walk(error), walk(Object.getPrototypeOf(error))] } })
}`,
    expect: { result: Array(7).fill([REFUSED, REFUSED]) },
  },
  {
    name: 'constructor-chain walk from inside timer callbacks: their this, arguments and the timer id',
    source: `${WALK}
export async function attack() {
  return await new Promise((resolve) => {
    const id = setTimeout(function (...args) { resolve([typeof this, args.length, walk(id), walk(resolve), walk(args)]) }, 0)
  })
}`,
    expect: { result: ['undefined', 0, REFUSED, REFUSED, REFUSED] },
  },
  {
    name: 'constructor-chain walk from every runtime global and from Function.prototype itself',
    source: `${WALK}
export function attack() {
  const values = [console.log, console, setTimeout, clearTimeout, TextEncoder, new TextDecoder(), new URL('http://h'), URLSearchParams, atob, btoa, structuredClone, crypto, crypto.randomUUID, Date, Date.now, eval, Function, Function.prototype, globalThis]
  return [...new Set(values.map(walk))]
}`,
    expect: { result: [REFUSED] },
  },
  {
    name: 'eval, new Function and the async/generator Function constructors, direct and indirect',
    source: `
export function attack() {
  const attempts = [() => eval('process'), () => (0, eval)('this'), () => new Function('return this')(), () => Reflect.construct(Function, ['return 1']), () => Object.getPrototypeOf(async function () {}).constructor('return 1'), () => Object.getPrototypeOf(function* () {}).constructor('yield 1')]
  return attempts.map((a) => { try { a(); return 'ran' } catch (e) { return e.name } })
}`,
    expect: { result: Array(6).fill('EvalError') },
  },
  {
    name: 'probing the global scope for Node and isolated-vm objects (process, require, Buffer, ivm, import.meta)',
    source: `
export function attack() {
  const names = ['process', 'require', 'module', 'exports', 'Buffer', 'global', 'ivm', '_ivm', 'isolatedVm', 'Deno', 'Bun', '__dirname']
  const found = names.filter((n) => typeof globalThis[n] !== 'undefined')
  const meta = Object.keys(import.meta)
  return { found, meta, url: import.meta.url ?? null }
}`,
    expect: { result: { found: [], meta: [], url: null } },
  },
  {
    name: 'dynamic import of node:fs, node:child_process and a data: URL',
    source: `
export async function attack() {
  const out = []
  for (const s of ['node:fs', 'node:child_process', 'data:text/javascript,export default process']) {
    try { await import(s); out.push('imported') } catch (e) { out.push(e.message) }
  }
  return out
}`,
    expect: { result: ['Not supported', 'Not supported', 'Not supported'] },
  },
  {
    name: 'Error.prepareStackTrace collecting CallSites: getThis/getFunction of runtime frames, file names',
    source: `
export function attack() {
  let frames = []
  Error.prepareStackTrace = (error, callSites) => callSites
  const capture = () => { frames = new Error('x').stack; return 1 }
  const v = { toJSON() { capture(); return 'ok' } }
  return { toJSON() {
    capture()
    const seen = frames.map((f) => [f.getFileName() ?? null, typeof f.getThis(), typeof f.getFunction()]).filter(([file]) => file !== 'attacker.js')
    return [...new Set(seen.map((s) => s.join(' ')))].sort()
  } }
}`,
    expect: { result: ['osiris:runtime undefined undefined'] },
  },
  {
    name: 'Error.prepareStackTrace that throws, then an Error thrown through it',
    source: `
export function attack() {
  Error.prepareStackTrace = () => { throw new Error('from prepareStackTrace') }
  throw new Error('boom')
}`,
    expect: { code: 'FUNCTION_ERROR', message: 'function "attack" threw Error: the thrown value could not be read' },
  },
  {
    name: 'Error.prepareStackTrace returning a 10 MB stack: cut to 16 KiB',
    source: `
export function attack() {
  Error.prepareStackTrace = () => 'x'.repeat(10 * 1024 * 1024)
  throw new TypeError('huge stack')
}`,
    expect: { code: 'FUNCTION_ERROR', message: 'function "attack" threw TypeError: huge stack' },
  },
  {
    name: 'a thrown Proxy whose every trap throws',
    source: `
export function attack() {
  throw new Proxy({}, { get() { throw new Error('trap') }, getPrototypeOf() { throw new Error('trap') }, has() { throw new Error('trap') } })
}`,
    expect: { code: 'FUNCTION_ERROR', message: 'function "attack" threw Error: the thrown value could not be read' },
  },
  {
    name: 'a thrown error with throwing getters for name, message and stack',
    source: `
export function attack() {
  const e = new Error('x')
  Object.defineProperty(e, 'name', { get() { throw new Error('getter') } })
  throw e
}`,
    expect: { code: 'FUNCTION_ERROR', message: 'function "attack" threw Error: the thrown value could not be read' },
  },
  {
    name: 'a thrown error whose message is 1 MB: cut to 8 KiB in the isolate, then to 2 KiB of bytes by the host',
    source: `export function attack() { throw new RangeError('m'.repeat(1 << 20)) }`,
    expect: {
      code: 'FUNCTION_ERROR',
      message: `function "attack" threw RangeError: ${'m'.repeat(2032)} … (truncated)`,
    },
  },
  {
    name: 'a thrown error at the runtime cut in 3-byte characters (24 KiB message): cut to 2 KiB of bytes by the host',
    source: `export function attack() { const e = new Error('€'.repeat(8192)); e.name = '€'.repeat(200); throw e }`,
    expect: {
      code: 'FUNCTION_ERROR',
      message: `function "attack" threw ${'€'.repeat(80)} … (truncated): ${'€'.repeat(677)} … (truncated)`,
    },
  },
  {
    name: 'sabotaging the built-ins the runtime uses (JSON, String, Array, Map, Promise, Object) before returning',
    source: `
export async function attack() {
  JSON.stringify = () => '"forged"'
  JSON.parse = () => 'forged'
  String.prototype.slice = () => 'forged'
  Array.prototype.map = () => ['forged']
  Map.prototype.set = () => { throw new Error('forged') }
  Promise.prototype.then = function () { throw new Error('forged') }
  Object.defineProperty = () => { throw new Error('forged') }
  return { honest: true, list: [1, 2] }
}`,
    expect: { result: { honest: true, list: [1, 2] } },
  },
]
