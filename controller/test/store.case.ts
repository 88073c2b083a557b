// The conformance suite every RegistryStore backend passes: the embedded
// sqlite store runs it in sqlite-store.test.ts, and a distributed backend
// (etcd) runs the same suite. `open(dir)` opens the store kept under `dir`;
// opening the same dir again must see the same data.
import { createHash } from 'node:crypto'
import type { FunctionSignature } from '@osiris/proto'
import type { Test } from 'tap'
import type { NewDeployment, RegistryStore } from '../src/store/store.ts'

export type OpenStore = (dir: string) => Promise<RegistryStore>

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

const sig = (name: string, ...params: string[]): FunctionSignature => ({
  name,
  params: params.map((p) => ({
    name: p.replace(/^\.\.\.|\?$/g, ''),
    optional: p.endsWith('?'),
    rest: p.startsWith('...'),
  })),
})

export function storeSuite(t: Test, name: string, open: OpenStore): void {
  /** A fresh store in a fresh directory, closed when the test ends. */
  async function fresh(t: Test): Promise<{ store: RegistryStore; dir: string }> {
    const dir = t.testdir()
    const store = await open(dir)
    t.teardown(() => store.close())
    return { store, dir }
  }

  async function deployment(store: RegistryStore, module: string, ...functions: FunctionSignature[]) {
    const codeHash = await store.putCode(
      `// ${module}\n${functions.map((f) => `export function ${f.name}() {}`).join('\n')}`,
    )
    const request: NewDeployment = { module, runtime: 'js', codeHash, functions }
    return { request, outcome: await store.deploy(request) }
  }

  t.test(`${name} registry store`, async (t) => {
    t.test('putCode stores by sha256 and getCode returns the same text', async (t) => {
      const { store } = await fresh(t)
      const code = 'export function greet(name) {\n  return "héllo " + name + " ✓ 🚀"\n}\n'
      const hash = await store.putCode(code)
      t.equal(hash, sha256(code), 'the hash is the sha256 hex of the code')
      t.match(hash, /^[0-9a-f]{64}$/)
      t.equal(await store.getCode(hash), code, 'byte-for-byte the same text, unicode included')

      t.equal(await store.putCode(code), hash, 'the same code twice is fine and has the same hash')
      t.equal(await store.getCode(hash), code)

      const other = await store.putCode('export function other() {}')
      t.not(other, hash)
      t.equal(await store.getCode(other), 'export function other() {}')
      t.equal(await store.getCode(hash), code, 'other code does not disturb it')

      const empty = await store.putCode('')
      t.equal(empty, sha256(''))
      t.equal(await store.getCode(empty), '', 'empty code is still code')
    })

    t.test('getCode of an unknown or malformed hash is undefined', async (t) => {
      const { store } = await fresh(t)
      const known = await store.putCode('export function f() {}')
      t.equal(await store.getCode(sha256('never stored')), undefined, 'unknown hash')
      for (const bad of [
        '',
        'abc',
        known.toUpperCase(),
        `${known}0`,
        known.slice(1),
        '../registry.db',
        `../${known}`,
      ]) {
        t.equal(await store.getCode(bad), undefined, `malformed hash ${JSON.stringify(bad)}`)
      }
    })

    t.test('deploy assigns increasing versions and returns the records', async (t) => {
      const { store } = await fresh(t)
      const a = await deployment(store, 'math', sig('sub', 'a', 'b'), sig('add', 'a', 'b?', '...rest'))
      t.ok(Number.isInteger(a.outcome.version) && a.outcome.version > 0, 'a positive integer version')
      t.same(a.outcome.removed, [])
      t.same(
        a.outcome.functions.map((f) => ({ ...f, deployedAtMs: typeof f.deployedAtMs })),
        [
          {
            name: 'add',
            module: 'math',
            runtime: 'js',
            version: a.outcome.version,
            params: [
              { name: 'a', optional: false, rest: false },
              { name: 'b', optional: true, rest: false },
              { name: 'rest', optional: false, rest: true },
            ],
            deployedAtMs: 'number',
            codeHash: a.request.codeHash,
            limits: { timeoutMs: 0, cpuMs: 0, memoryMb: 0 },
            egressAllow: [],
          },
          {
            name: 'sub',
            module: 'math',
            runtime: 'js',
            version: a.outcome.version,
            params: [
              { name: 'a', optional: false, rest: false },
              { name: 'b', optional: false, rest: false },
            ],
            deployedAtMs: 'number',
            codeHash: a.request.codeHash,
            limits: { timeoutMs: 0, cpuMs: 0, memoryMb: 0 },
            egressAllow: [],
          },
        ],
        'records sorted by name, with the new version and the code hash',
      )
      const b = await deployment(store, 'text', sig('upper', 's'))
      t.ok(b.outcome.version > a.outcome.version, 'another module gets a later version')
      const c = await deployment(store, 'math', sig('add', 'a', 'b'), sig('sub', 'a', 'b'))
      t.ok(c.outcome.version > b.outcome.version, 'a redeploy gets a later version')
      t.same(c.outcome.removed, [])
    })

    t.test('limits and egress allowances are stored with the version', async (t) => {
      const { store } = await fresh(t)
      const codeHash = await store.putCode('export function f() {}')
      const outcome = await store.deploy({
        module: 'limited',
        runtime: 'js',
        codeHash,
        functions: [sig('f')],
        limits: { timeoutMs: 250, cpuMs: 100, memoryMb: 32 },
        egressAllow: ['api.example.com'],
      })
      const [record] = outcome.functions
      t.same(record?.limits, { timeoutMs: 250, cpuMs: 100, memoryMb: 32 })
      t.same(record?.egressAllow, ['api.example.com'])
      const listed = (await store.listFunctions()).find((f) => f.name === 'f')
      t.same(listed?.limits, { timeoutMs: 250, cpuMs: 100, memoryMb: 32 })
    })

    t.test('concurrent deploys each get their own version', async (t) => {
      const { store } = await fresh(t)
      const codeHash = await store.putCode('export function f() {}')
      const outcomes = await Promise.all(
        ['m1', 'm2', 'm3', 'm4', 'm5'].map((module) =>
          store.deploy({ module, runtime: 'js', codeHash, functions: [sig(`${module}_fn`)] }),
        ),
      )
      t.equal(new Set(outcomes.map((o) => o.version)).size, 5, 'five distinct versions')
      t.same(
        (await store.listFunctions()).map((f) => f.name),
        ['m1_fn', 'm2_fn', 'm3_fn', 'm4_fn', 'm5_fn'],
      )
    })

    t.test('a redeploy replaces the module functions and reports what it removed', async (t) => {
      const { store } = await fresh(t)
      await deployment(store, 'math', sig('add', 'a', 'b'), sig('sub', 'a', 'b'), sig('mul', 'a', 'b'))
      const text = await deployment(store, 'text', sig('upper', 's'))
      const next = await deployment(store, 'math', sig('add', 'x', 'y', 'z'), sig('div', 'a', 'b'))
      t.same(next.outcome.removed.sort(), ['mul', 'sub'])
      t.same(
        next.outcome.functions.map((f) => f.name),
        ['add', 'div'],
      )
      const listed = await store.listFunctions()
      t.same(
        listed.map((f) => [f.name, f.module, f.version]),
        [
          ['add', 'math', next.outcome.version],
          ['div', 'math', next.outcome.version],
          ['upper', 'text', text.outcome.version],
        ],
        'the old names are gone and the other module is untouched',
      )
      t.same(
        listed.find((f) => f.name === 'add')?.params.map((p) => p.name),
        ['x', 'y', 'z'],
        'parameters come from the new version',
      )
      t.equal(listed.find((f) => f.name === 'add')?.codeHash, next.request.codeHash)
    })

    t.test('a name owned by another module is INVALID_ARGUMENT and changes nothing', async (t) => {
      const { store } = await fresh(t)
      const first = await deployment(store, 'math', sig('add', 'a', 'b'))
      await deployment(store, 'text', sig('upper', 's'))
      const before = await store.listFunctions()
      const codeHash = await store.putCode('export function lower() {}\nexport function add() {}')
      await t.rejects(
        store.deploy({ module: 'text', runtime: 'js', codeHash, functions: [sig('lower', 's'), sig('add')] }),
        { code: 'INVALID_ARGUMENT', message: /function "add" .*module "math"/ },
        'the message names the function and the module that owns it',
      )
      t.same(await store.listFunctions(), before, 'the failed deploy left the registry as it was')
      const after = await deployment(store, 'math', sig('add', 'a', 'b'), sig('neg', 'a'))
      t.ok(after.outcome.version > first.outcome.version, 'and deploys go on working')
      t.same(after.outcome.removed, [])
    })

    t.test('deleteFunction returns the record once, then undefined', async (t) => {
      const { store } = await fresh(t)
      const { outcome } = await deployment(store, 'math', sig('add', 'a', 'b'), sig('sub', 'a', 'b'))
      const added = outcome.functions.find((f) => f.name === 'add')
      t.same(await store.deleteFunction('add'), added, 'the removed record')
      t.equal(await store.deleteFunction('add'), undefined, 'gone the second time')
      t.equal(await store.deleteFunction('never-deployed'), undefined)
      t.same(
        (await store.listFunctions()).map((f) => f.name),
        ['sub'],
        'the rest of the module stays',
      )
      const again = await deployment(store, 'other', sig('add'))
      t.same(
        again.outcome.functions.map((f) => [f.name, f.module]),
        [['add', 'other']],
        'a deleted name is free for another module',
      )
    })

    t.test('listFunctions is sorted by name across modules', async (t) => {
      const { store } = await fresh(t)
      t.same(await store.listFunctions(), [], 'empty at first')
      await deployment(store, 'zeta', sig('zz'), sig('aa'))
      await deployment(store, 'alpha', sig('mm'), sig('Bb'), sig('b_2'))
      t.same(
        (await store.listFunctions()).map((f) => f.name),
        ['Bb', 'aa', 'b_2', 'mm', 'zz'],
      )
    })

    t.test('everything survives close and reopen', async (t) => {
      const dir = t.testdir()
      const first = await open(dir)
      t.teardown(() => first.close())
      const code = 'export function keep(x) { return x }'
      const hash = await first.putCode(code)
      const math = await first.deploy({ module: 'math', runtime: 'ts', codeHash: hash, functions: [sig('keep', 'x')] })
      const gone = await first.deploy({ module: 'gone', runtime: 'js', codeHash: hash, functions: [sig('drop')] })
      await first.deleteFunction('drop')
      const listed = await first.listFunctions()
      await first.close()
      await first.close()
      t.pass('close is idempotent')

      const second = await open(dir)
      t.teardown(() => second.close())
      t.equal(await second.getCode(hash), code, 'code is still there')
      t.same(await second.listFunctions(), listed, 'the registry is as it was')
      t.same(listed, math.functions)
      const next = await second.deploy({ module: 'more', runtime: 'js', codeHash: hash, functions: [sig('more')] })
      t.ok(next.version > gone.version, 'versions keep increasing after a reopen')
    })
  })
}
