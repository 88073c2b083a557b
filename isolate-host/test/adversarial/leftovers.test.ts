// Adversarial corpus, part 4: what one call or tenant could leave for the
// next, and what a tenant could hand the host besides source (see README.md).
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { type Case, runCase } from './corpus.ts'
import { failure, harness, value } from './harness.ts'

t.test('leftovers: a fresh instance of another tenant sees nothing a previous tenant changed', async (t) => {
  const h = await harness(t, { poolTarget: 1 })
  const first = await h.deploy(
    `export function spoil() {
  globalThis.leftBehind = 'secret of tenant A'
  Object.prototype.polluted = 'A'
  Array.prototype.push = () => 'A'
  JSON.stringify = () => '"A"'
  Date.now = () => 0
  setInterval(() => { globalThis.ticked = true }, 1)
  return 'spoiled'
}`,
    'tenantA',
  )
  t.equal(await value(first.call('spoil')), 'spoiled')
  const second = await h.deploy(
    `export function look() {
  const probe = []
  probe.push(1)
  return [typeof globalThis.leftBehind, ({}).polluted ?? null, probe.length, typeof globalThis.ticked, Date.now() > 0, Object.keys(globalThis)]
}`,
    'tenantB',
  )
  const seen = await second.call('look')
  t.equal(seen.coldStart, true)
  t.same(JSON.parse(seen.result), ['undefined', null, 1, 'undefined', true, []])
})

t.test('leftovers: the same function after its instance was killed starts from clean state', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
let calls = 0
export function count() { globalThis.marker = 'set'; return ++calls }
export function bomb() { const a = []; for (;;) a.push({}) }
export function look() { return [calls, typeof globalThis.marker] }
`)
  t.equal(await value(mod.call('count')), 1)
  t.equal(await value(mod.call('count')), 2)
  t.equal((await failure(mod.call('bomb', { timeoutMs: 30_000 }))).code, 'RESOURCE_EXHAUSTED')
  t.same(await value(mod.call('look')), [0, 'undefined'])
})

t.test('leftovers: timers left by a call never run in the next call on the same instance', async (t) => {
  const h = await harness(t)
  const mod = await h.deploy(`
let ran = []
export function leave() { setInterval(() => ran.push('interval'), 0); setTimeout(() => ran.push('timeout'), 1); return 'left' }
export async function next() { await new Promise((r) => setTimeout(r, 50)); return ran }
`)
  t.equal(await value(mod.call('leave')), 'left')
  const next = await mod.call('next')
  t.equal(next.coldStart, false, 'the same instance')
  t.same(JSON.parse(next.result), [], 'no timer of the first call ran')
})

t.test('tenant-supplied code cache or snapshot data is refused: there is no way to hand it in', async (t) => {
  const protoDir = new URL('../../../proto/osiris/v1/', import.meta.url)
  const fields = readdirSync(protoDir)
    .filter((f) => f.endsWith('.proto'))
    .flatMap((f) => [
      ...readFileSync(new URL(f, protoDir), 'utf8').matchAll(/^\s*(?:repeated\s+)?\w+\s+(\w+)\s*=\s*\d+;/gm),
    ])
    .map((m) => m[1] ?? '')
  t.ok(fields.length > 20, 'the wire fields were read')
  t.same(
    fields.filter((name) => /code_cache|cached_data|snapshot|bytecode|compiled/i.test(name)),
    [],
    'no wire field carries compiled code (cached_code in a host status lists content hashes)',
  )
  const srcDir = new URL('../../src/', import.meta.url)
  const uses = readdirSync(srcDir)
    .filter((f) => f.endsWith('.ts'))
    .filter((f) =>
      /cachedData|produceCachedData|createSnapshot|snapshot:/.test(readFileSync(new URL(f, srcDir), 'utf8')),
    )
  t.same(uses, [], 'no isolate-host module passes code cache or snapshot options to isolated-vm')

  const bytes = Buffer.from([0xc0, 0xde, 0xca, 0xfe, 0x00, 0x01, 0x02, 0xff, 0xfe])
  const c: Case = {
    name: 'a V8 code cache blob deployed as source',
    source: 'export function attack() { return "only source is ever compiled" }',
    expect: { result: 'only source is ever compiled' },
  }
  await runCase(t, c)
  const h = await harness(t)
  const err = await h.executor.validate('js', bytes.toString('latin1'), 'cache.js').then(
    () => undefined,
    (e: unknown) => e,
  )
  t.match(err, { code: 'COMPILE_ERROR' }, 'a binary blob is source that does not compile')
})
