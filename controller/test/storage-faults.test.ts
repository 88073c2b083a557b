// Storage faults of the embedded store, each with its stable code and a
// message naming the path and the real cause: a read-only data directory
// (fresh and existing), a full disk under a blob write and under a SQLite
// transaction, leftover temporary blobs, and a corrupt blob. The file-system
// faults run in a mount namespace of the test's own, on a small tmpfs.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { SqliteStore } from '../src/store/sqlite-store.ts'

const FIXTURE = fileURLToPath(new URL('./fixtures/store-fault.ts', import.meta.url))
const NODE = `${process.execPath} --no-node-snapshot --conditions=osiris-source ${FIXTURE}`
const canMount =
  spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt'], {
    stdio: 'ignore',
  }).status === 0

interface Answer {
  code: string
  message: string
  files: string[]
}

/** Runs `script` (sh, with $D the tmpfs and $N the fixture) in a new mount namespace; the fixture's last JSON line. */
function inNamespace(dir: string, script: string): Answer {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS'))
  const run = spawnSync('unshare', ['-m', 'sh', '-ec', script], {
    env: { ...env, D: dir, N: NODE },
    encoding: 'utf8',
    timeout: 60_000,
  })
  const line = run.stdout.trim().split('\n').at(-1) ?? ''
  if (!line.startsWith('{')) throw new Error(`fixture failed (${run.status}): ${run.stdout}\n${run.stderr}`)
  return JSON.parse(line) as Answer
}

const namespaced = { skip: canMount ? false : 'needs unshare -m and tmpfs mounts (root)' }

t.test(
  'a read-only data dir, fresh: UNAVAILABLE "data dir is read-only" with the file system error',
  namespaced,
  async (t) => {
    const dir = t.testdir()
    const answer = inNamespace(dir, 'mount -t tmpfs -o ro,size=256k tmpfs "$D"; $N "$D" open')
    t.equal(answer.code, 'UNAVAILABLE')
    t.equal(
      answer.message,
      `data dir is read-only: ${dir}/data (EROFS: read-only file system, access '${dir}'; ENOENT: no such file or directory, mkdir '${dir}/data')`,
    )
  },
)

t.test("a read-only data dir holding a registry: the same code, with SQLite's own error", namespaced, async (t) => {
  const dir = t.testdir()
  const answer = inNamespace(
    dir,
    'mount -t tmpfs -o size=256k tmpfs "$D"; $N "$D" prepare; mount -o remount,ro "$D"; $N "$D" open',
  )
  t.equal(answer.code, 'UNAVAILABLE')
  t.equal(
    answer.message,
    `data dir is read-only: ${dir}/data (EROFS: read-only file system, access '${dir}/data'; unable to open database file)`,
  )
})

t.test(
  'disk full under a blob write: RESOURCE_EXHAUSTED "disk full", and no temporary file left',
  namespaced,
  async (t) => {
    const dir = t.testdir()
    const answer = inNamespace(dir, 'mount -t tmpfs -o size=256k tmpfs "$D"; $N "$D" blob')
    t.equal(answer.code, 'RESOURCE_EXHAUSTED')
    t.match(
      answer.message,
      new RegExp(
        `^disk full: ${dir}/data/code/[0-9a-f]{2}/[0-9a-f]{64}\\.js \\(ENOSPC: no space left on device, write\\)$`,
      ),
    )
    t.same(answer.files, [], 'the failed write removed its temporary file')
  },
)

t.test(
  'disk full under a deploy: SQLite\'s "database or disk is full", not a failed rollback',
  namespaced,
  async (t) => {
    const dir = t.testdir()
    const answer = inNamespace(dir, 'mount -t tmpfs -o size=512k tmpfs "$D"; $N "$D" deploy')
    t.equal(answer.code, 'RESOURCE_EXHAUSTED')
    t.equal(answer.message, `disk full: ${dir}/data/registry.db (database or disk is full)`)
  },
)

t.test('temporary blobs left by a crash are removed when the store opens', async (t) => {
  const dir = t.testdir()
  const first = await SqliteStore.open(dir)
  const hash = await first.putCode('export function kept() {}')
  await first.close()
  const leftover = join(dir, 'code', hash.slice(0, 2), `.${hash}.01234567-89ab-cdef-0123-456789abcdef.tmp`)
  writeFileSync(leftover, 'half a blob')
  mkdirSync(join(dir, 'code', 'ff'), { recursive: true })
  writeFileSync(join(dir, 'code', 'ff', `.${'f'.repeat(64)}.01234567-89ab-cdef-0123-456789abcdef.tmp`), '')
  const store = await SqliteStore.open(dir)
  t.teardown(() => store.close())
  t.same(readdirSync(join(dir, 'code', hash.slice(0, 2))), [`${hash}.js`], 'only the blob is left')
  t.same(readdirSync(join(dir, 'code', 'ff')), [])
  t.equal(await store.getCode(hash), 'export function kept() {}')
})

t.test(
  'a corrupt blob is refused when read, with its path and what it hashes to; a redeploy rewrites it',
  async (t) => {
    const dir = t.testdir()
    const store = await SqliteStore.open(dir)
    t.teardown(() => store.close())
    const code = 'export function f() { return 1 }'
    const hash = await store.putCode(code)
    const path = join(dir, 'code', hash.slice(0, 2), `${hash}.js`)
    writeFileSync(path, 'export function f() { return 2 }')
    await t.rejects(store.getCode(hash), {
      code: 'UNAVAILABLE',
      message: new RegExp(
        `^code blob ${hash} is corrupt: ${path} hashes to [0-9a-f]{64}; deploy its module again to rewrite it$`,
      ),
    })
    t.equal(await store.putCode(code), hash)
    t.equal(await store.getCode(hash), code, 'the blob is whole again')
  },
)
