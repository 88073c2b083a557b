// Adversarial corpus, part 6: forged verdicts and blinded limits (see README.md in this folder).
import { OsirisError } from '@osiris/proto'
import t from 'tap'
import { GenericIsolate } from '../../src/generic-isolate.ts'
import { FunctionInstance } from '../../src/instance.ts'
import { runCorpus } from './corpus.ts'
import { harness } from './harness.ts'
import { VERDICT_CASES } from './verdicts.cases.ts'

runCorpus(t, VERDICT_CASES)

// Top-level code is validated at deploy, in another isolate: these load a module straight into an instance.
async function load(code: string, timeoutMs = 1000): Promise<OsirisError> {
  const generic = await GenericIsolate.create(64)
  try {
    new FunctionInstance(generic, { module: 'attacker', version: 7, code, codeHash: 'none' }, () => {}, timeoutMs)
  } catch (error) {
    if (error instanceof OsirisError) return error
    throw error
  }
  generic.dispose()
  throw new Error('the module loaded')
}

t.test("top-level code throwing isolated-vm's own texts is the module's error, no breach", async (t) => {
  for (const text of ['Script execution timed out.', 'Isolate was disposed during execution due to memory limit']) {
    const error = await load(`throw new Error(${JSON.stringify(text)})\nexport function f() {}`)
    t.equal(error.code, 'FUNCTION_ERROR')
    t.equal(error.message, `module "attacker" v7 threw Error while loading: ${text}`)
    t.equal(error.breach, undefined)
  }
})

t.test('top-level code past its load timeout or its memory limit: the breach the host saw', async (t) => {
  const slow = await load('while (true) {}\nexport function f() {}', 100)
  t.equal(slow.code, 'DEADLINE_EXCEEDED')
  t.equal(slow.message, 'module "attacker" v7: top-level code ran past its timeout')
  t.equal(slow.breach, 'time')
  const big = await load('const a = []; while (true) a.push({ n: a.length })\nexport function f() {}', 30_000)
  t.equal(big.code, 'RESOURCE_EXHAUSTED')
  t.equal(big.message, 'module "attacker" v7: top-level code ran past its memory limit')
  t.equal(big.breach, 'memory')
})

t.test("deploy-time validation reads the exports' kinds with no built-in the top level could replace", async (t) => {
  const h = await harness(t)
  const source = `Array.prototype.map = function () { return ['function', 'function'] }
export let f = () => 1
f = 42
export function g() { return 2 }`
  const error = await h.executor.validate('js', source, 'liar.js').then(
    () => new Error('validated'),
    (e: unknown) => e,
  )
  t.ok(error instanceof OsirisError)
  t.equal((error as OsirisError).code, 'INVALID_ARGUMENT')
  t.equal((error as OsirisError).message, 'liar.js: export "f" is a number, not a function')
})
