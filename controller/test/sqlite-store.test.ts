// The embedded registry store: the shared conformance suite, plus what only
// this backend has: the blob directory on disk.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import t from 'tap'
import { SqliteStore } from '../src/store/sqlite-store.ts'
import { storeSuite } from './store.case.ts'

storeSuite(t, 'sqlite', (dir) => SqliteStore.open(dir))

t.test('putCode leaves no temporary files in the blob directory', async (t) => {
  const dir = t.testdir()
  const store = await SqliteStore.open(dir)
  t.teardown(() => store.close())
  const hashes = await Promise.all(
    ['export function a() {}', 'export function b() {}', 'export function a() {}'].map((code) => store.putCode(code)),
  )
  await store.putCode('export function b() {}')
  const files = (await readdir(join(dir, 'code'), { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(join(dir, 'code').length + 1))
    .sort()
  const unique = [...new Set(hashes)].sort()
  t.same(
    files,
    unique.map((hash) => join(hash.slice(0, 2), `${hash}.js`)),
    'exactly one blob per distinct code, named by its hash, and nothing else',
  )
})

t.test('a closed store rejects every operation with CLOSED', async (t) => {
  const store = await SqliteStore.open(t.testdir())
  const hash = await store.putCode('export function f() {}')
  await store.close()
  const closed = { code: 'CLOSED', message: 'the registry store is closed' }
  await t.rejects(store.putCode('x'), closed)
  await t.rejects(store.getCode(hash), closed)
  await t.rejects(store.listFunctions(), closed)
  await t.rejects(store.deleteFunction('f'), closed)
  await t.rejects(store.deploy({ module: 'm', runtime: 'js', codeHash: hash, functions: [] }), closed)
})

t.test('a data directory from before per-function limits opens, its functions on platform defaults', async (t) => {
  const dir = t.testdir()
  const old = new DatabaseSync(join(dir, 'registry.db'))
  old.exec(`
    CREATE TABLE deployments (version INTEGER PRIMARY KEY AUTOINCREMENT, module TEXT NOT NULL,
      runtime TEXT NOT NULL, code_hash TEXT NOT NULL, deployed_at_ms INTEGER NOT NULL);
    CREATE TABLE functions (name TEXT PRIMARY KEY, module TEXT NOT NULL, version INTEGER NOT NULL, params TEXT NOT NULL);
    INSERT INTO deployments (module, runtime, code_hash, deployed_at_ms) VALUES ('m', 'js', 'abc', 1);
    INSERT INTO functions VALUES ('f', 'm', 1, '[]');
  `)
  old.close()
  const store = await SqliteStore.open(dir)
  t.teardown(() => store.close())
  const [record] = await store.listFunctions()
  t.same(record?.limits, { timeoutMs: 0, cpuMs: 0, memoryMb: 0 })
  t.same(record?.egressAllow, [])
})
