// Reading a module's functions from its source, and deploy-time validation:
// what gets registered, what is rejected, and that every rejection carries
// the exact code and a message that points at the problem.
import t from 'tap'
import { readModuleShape } from '../src/signatures.ts'
import { stripTypes, validateModule } from '../src/validate.ts'

const p = (name: string, optional = false, rest = false) => ({ name, optional, rest })

const LIMITS = { memoryLimitMb: 64, timeoutMs: 1000 }

t.test('exported function declarations, async functions and arrows with their parameters', async (t) => {
  const code = [
    'export function add(a, b) { return a + b }',
    'export async function later(ms) { return ms }',
    'export const f = (a, b = 1, ...rest) => [a, b, rest]',
    'export let g = async function named(x) { return x }',
    'export const notAFunction = 5, h = x => x',
    'function helper() {}',
  ].join('\n')
  const shape = readModuleShape(code, 'm.js')
  t.equal(shape.code, code, 'a module with exports runs as written')
  t.same(shape.functions, [
    { name: 'add', params: [p('a'), p('b')] },
    { name: 'later', params: [p('ms')] },
    { name: 'f', params: [p('a'), p('b', true), p('rest', false, true)] },
    { name: 'g', params: [p('x')] },
    { name: 'h', params: [p('x')] },
  ])
})

t.test('export clauses, renames and destructured parameters', async (t) => {
  const code = [
    'function a({ x, y }, [z] = []) {}',
    'const b = function (...[first]) {}',
    'const c = 1',
    'export { a as b, b as other, c }',
    'export { a }',
  ].join('\n')
  const shape = readModuleShape(code, 'm.js')
  t.equal(shape.code, code)
  t.same(
    shape.functions,
    [
      { name: 'b', params: [p('{ x, y }'), p('[z]', true)] },
      { name: 'other', params: [p('[first]', false, true)] },
      { name: 'a', params: [p('{ x, y }'), p('[z]', true)] },
    ],
    'exported names, the source text of patterns; c is not a function',
  )
})

t.test('a module without exports registers its top-level function declarations', async (t) => {
  const code = [
    'function greet(name) { return inner(name) }',
    'async function fetchIt(url, opts = {}) {}',
    'const arrow = () => 1',
    'function inner(x) { function nested() {} return x }',
  ].join('\n')
  const shape = readModuleShape(code, 'm.js')
  t.same(shape.functions, [
    { name: 'greet', params: [p('name')] },
    { name: 'fetchIt', params: [p('url'), p('opts', true)] },
    { name: 'inner', params: [p('x')] },
  ])
  t.equal(shape.code, `${code}\nexport { greet, fetchIt, inner };\n`, 'an export clause is appended')

  const none = readModuleShape('const x = 1\nconst y = () => x\n', 'm.js')
  t.same(none.functions, [], 'no declarations, nothing registered')
  t.equal(none.code, 'const x = 1\nconst y = () => x\n', 'and nothing appended')

  const defaultOnly = readModuleShape('export default 42\nfunction helper() {}', 'm.js')
  t.same(defaultOnly.functions, [], 'a default export of a value counts as exports: declarations are not registered')
  t.equal(defaultOnly.code, 'export default 42\nfunction helper() {}')
})

t.test('imports and re-exports are rejected with their position', async (t) => {
  t.throws(() => readModuleShape('export function f() {}\n  import fs from "node:fs"\n', 'm.js'), {
    code: 'COMPILE_ERROR',
    message: 'm.js does not compile: functions cannot import modules (line 2, column 3)',
  })
  t.throws(() => readModuleShape('export * from "./other.js"', 'm.js'), {
    code: 'COMPILE_ERROR',
    message: 'm.js does not compile: functions cannot import modules (line 1, column 1)',
  })
  t.throws(() => readModuleShape('function f() {}\n\nexport { f as g } from "./x.js"', 'm.js'), {
    code: 'COMPILE_ERROR',
    message: 'm.js does not compile: functions cannot import modules (line 3, column 1)',
  })
  t.throws(() => readModuleShape('import "side-effect"', 'm.js'), {
    code: 'COMPILE_ERROR',
    message: 'm.js does not compile: functions cannot import modules (line 1, column 1)',
  })
})

t.test('syntax errors name the file, the problem, and the exact line and column', async (t) => {
  t.throws(() => readModuleShape('export function f(a, b) {\n  return a +\n}\n', 'calc.js'), {
    code: 'COMPILE_ERROR',
    message: 'calc.js does not compile: Unexpected token (line 3, column 1)',
  })
  t.throws(() => readModuleShape('let x = 1\nlet x = 2\n', 'dup.js'), {
    code: 'COMPILE_ERROR',
    message: "dup.js does not compile: Identifier 'x' has already been declared (line 2, column 5)",
  })
  t.throws(() => readModuleShape('export function f() {\n\twith (a) {}\n}', 'strict.js'), {
    code: 'COMPILE_ERROR',
    message: "strict.js does not compile: 'with' in strict mode (line 2, column 2)",
  })
})

t.test('stripTypes erases TypeScript in place', async (t) => {
  const source = 'export function f(a: number,\n  b: string): number { return a }\n'
  const js = stripTypes(source, 'm.ts')
  t.equal(js, 'export function f(a        ,\n  b        )         { return a }\n', 'types become spaces')
  t.equal(js.length, source.length, 'every position stays put')
  t.same(readModuleShape(js, 'm.ts').functions, [{ name: 'f', params: [p('a'), p('b')] }])

  t.throws(() => stripTypes('export function f(a: number {\n}\n', 'bad.ts'), {
    code: 'COMPILE_ERROR',
    message: "bad.ts does not compile: Expected ',', got '{' (line 1, column 29)",
  })
  t.throws(() => stripTypes('\nenum Color { Red }\nexport function f() {}', 'enum.ts'), {
    code: 'COMPILE_ERROR',
    message: 'enum.ts does not compile: TypeScript enum is not supported in strip-only mode (line 2, column 1)',
  })
})

t.test('validateModule accepts JS and TS and returns the code to store', async (t) => {
  const js = await validateModule('js', 'export function add(a, b) { return a + b }', 'add.js', LIMITS)
  t.same(js, {
    code: 'export function add(a, b) { return a + b }',
    functions: [{ name: 'add', params: [p('a'), p('b')] }],
  })

  const ts = await validateModule(
    'ts',
    'interface P { x: number }\nexport function px(point: P, scale?: number): number { return point.x }',
    'px.ts',
    LIMITS,
  )
  t.notMatch(ts.code, /interface|: number/, 'the stored code is JavaScript')
  t.same(ts.functions, [{ name: 'px', params: [p('point'), p('scale', true)] }], 'scale? is optional')

  const bare = await validateModule('js', 'function hello(name) { return "hi " + name }', 'hello.js', LIMITS)
  t.equal(bare.code, 'function hello(name) { return "hi " + name }\nexport { hello };\n')
  t.same(bare.functions, [{ name: 'hello', params: [p('name')] }])

  const mixed = await validateModule('js', 'export const x = 5\nexport function f() { return x }', 'mixed.js', LIMITS)
  t.same(mixed.functions, [{ name: 'f', params: [] }], 'a non-function export alongside is fine and not registered')
})

t.test('validateModule rejects what cannot be deployed, with the exact code', async (t) => {
  await t.rejects(validateModule('python', 'def f(): pass', 'f.py', LIMITS), {
    code: 'INVALID_ARGUMENT',
    message: 'runtime "python" is not served by isolates (use js or ts)',
  })
  await t.rejects(validateModule('ts', 'export function f(a: number) {\n  return a +\n}', 'calc.ts', LIMITS), {
    code: 'COMPILE_ERROR',
    message: 'calc.ts does not compile: Expression expected (line 3, column 1)',
  })
  await t.rejects(
    validateModule('ts', 'let x = 1\nconst y: Map<string, number> = new Map(), x: number = 3', 'dup.ts', LIMITS),
    {
      code: 'COMPILE_ERROR',
      message: "dup.ts does not compile: Identifier 'x' has already been declared (line 2, column 43)",
    },
    'an error found after stripping points at the TypeScript source',
  )
  await t.rejects(validateModule('ts', 'enum E { A }\nexport function f() {}', 'e.ts', LIMITS), {
    code: 'COMPILE_ERROR',
    message: /^e\.ts does not compile: TypeScript enum is not supported .* \(line 1, column 1\)$/,
  })
  await t.rejects(validateModule('js', 'enum E { A }\nexport function f() {}', 'e.js', LIMITS), {
    code: 'COMPILE_ERROR',
    message: "e.js does not compile: The keyword 'enum' is reserved (line 1, column 1)",
  })
  await t.rejects(validateModule('js', 'throw new Error("nope")\nexport function f() {}', 'boom.js', LIMITS), {
    code: 'INVALID_ARGUMENT',
    message: 'boom.js failed while loading: nope',
  })
  await t.rejects(validateModule('js', 'export function f() {}\nwhile (true) {}', 'spin.js', LIMITS), {
    code: 'INVALID_ARGUMENT',
    message: /^spin\.js failed while loading: .*timed out/,
  })
  await t.rejects(validateModule('js', 'export let f = () => 1\nf = 5', 'reassigned.js', LIMITS), {
    code: 'INVALID_ARGUMENT',
    message: 'reassigned.js: export "f" is a number, not a function',
  })
  await t.rejects(validateModule('js', 'export const x = 5', 'x.js', LIMITS), {
    code: 'INVALID_ARGUMENT',
    message: 'x.js defines no functions to deploy',
  })
  await t.rejects(validateModule('js', '', 'empty.js', LIMITS), {
    code: 'INVALID_ARGUMENT',
    message: 'empty.js defines no functions to deploy',
  })
  await t.rejects(validateModule('js', 'import x from "y"\nexport function f() {}', 'imp.js', LIMITS), {
    code: 'COMPILE_ERROR',
    message: 'imp.js does not compile: functions cannot import modules (line 1, column 1)',
  })
})

t.test('TypeScript `?` parameters are optional in every form a module exports a function', async (t) => {
  const source = [
    'export function hello(name: string, greeting?: string): string { return (greeting ?? "hello") + " " + name }',
    'export const arrow = (a: number, b?: number, c = 2): number => a',
    'export const expr = function (a ?: string /* note */, ...rest: number[]) { return a }',
    'export let named = async function inner(this: unknown, ms?: number) { return ms }',
    'export function* gen(n?: number) { yield n }',
    'function local(x: number, y?: { z: number }) { return x }',
    'export { local as renamed }',
    'export default function handler(req?: string, ctx: string = "") { return req }',
  ].join('\n')
  const result = await validateModule('ts', source, 'mod.ts', LIMITS)
  t.same(result.functions, [
    { name: 'hello', params: [p('name'), p('greeting', true)] },
    { name: 'arrow', params: [p('a'), p('b', true), p('c', true)] },
    { name: 'expr', params: [p('a', true), p('rest', false, true)] },
    { name: 'named', params: [p('ms', true)] },
    { name: 'gen', params: [p('n', true)] },
    { name: 'renamed', params: [p('x'), p('y', true)] },
    { name: 'handler', params: [p('req', true), p('ctx', true)], defaultExport: true },
  ])
  const js = readModuleShape('export function f(a, b) { return a ? b : 1 }', 'f.js')
  t.same(js.functions, [{ name: 'f', params: [p('a'), p('b')] }], 'a conditional in JavaScript marks nothing')
})

t.test('a named default export is registered under its name; an anonymous one is refused', async (t) => {
  const declared = await validateModule('js', 'export default function handler(x) { return x * 2 }', 'h.js', LIMITS)
  t.same(declared.functions, [{ name: 'handler', params: [p('x')], defaultExport: true }])
  t.equal(declared.code, 'export default function handler(x) { return x * 2 }\nexport { handler };\n')

  const byName = await validateModule('js', 'const double = (x) => x * 2\nexport default double', 'd.js', LIMITS)
  t.same(byName.functions, [{ name: 'double', params: [p('x')], defaultExport: true }])
  const asDefault = readModuleShape('function f(a) {}\nexport { f as default, f }', 'f.js')
  t.same(asDefault.functions, [{ name: 'f', params: [p('a')] }], 'exported by name too: registered once')
  t.equal(asDefault.code, 'function f(a) {}\nexport { f as default, f }', 'no clause needed')
  const both = readModuleShape('export function g() {}\nexport default function main(y) {}', 'g.js')
  t.same(both.functions, [
    { name: 'g', params: [] },
    { name: 'main', params: [p('y')], defaultExport: true },
  ])
  t.same(readModuleShape('export default class Thing {}\nexport function f() {}', 'c.js').functions, [
    { name: 'f', params: [] },
  ])

  const refusal =
    'a default export needs a name to be deployed, as functions are called by name: write `export default function name(…)`'
  await t.rejects(validateModule('js', 'export default function (x) { return x }', 'anon.js', LIMITS), {
    code: 'INVALID_ARGUMENT',
    message: `anon.js: ${refusal} (line 1, column 1)`,
  })
  await t.rejects(validateModule('ts', 'const a = 1\nexport default (x: number) => x', 'arrow.ts', LIMITS), {
    code: 'INVALID_ARGUMENT',
    message: `arrow.ts: ${refusal} (line 2, column 1)`,
  })
})
