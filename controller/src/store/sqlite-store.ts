// Embedded registry store: node:sqlite (WAL) for the registry and a
// content-addressed blob directory for code, both under one data directory.
// Blobs are written to a temporary file, synced, then renamed into place, so a
// crash never leaves a half-written blob under a valid hash; leftovers of a
// crash are removed at open, and a failed write removes its own. A blob's hash
// is checked when it is read. Storage faults surface with their path and cause
// (storage-errors.ts), the real SQLite error never replaced by a later one.
import { createHash, randomUUID } from 'node:crypto'
import { constants } from 'node:fs'
import { access, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { type FunctionLimits, OsirisError, type Parameter } from '@osiris/proto'
import { isReadOnly, storageError } from './storage-errors.ts'
import type { DeployOutcome, FunctionRecord, NewDeployment, RegistryStore } from './store.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deployments (
  version INTEGER PRIMARY KEY AUTOINCREMENT,
  module TEXT NOT NULL,
  runtime TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  deployed_at_ms INTEGER NOT NULL,
  limits TEXT NOT NULL DEFAULT '{}',
  egress_allow TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS functions (
  name TEXT PRIMARY KEY,
  module TEXT NOT NULL,
  version INTEGER NOT NULL REFERENCES deployments(version),
  params TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS functions_by_module ON functions(module);
`

interface FunctionRow {
  name: string
  module: string
  runtime: string
  version: number
  params: string
  deployed_at_ms: number
  code_hash: string
  limits: string
  egress_allow: string
}

const SELECT_FUNCTIONS = `
SELECT f.name, f.module, d.runtime, f.version, f.params, d.deployed_at_ms, d.code_hash, d.limits, d.egress_allow
FROM functions f JOIN deployments d ON d.version = f.version`

const NO_LIMITS: FunctionLimits = { timeoutMs: 0, cpuMs: 0, memoryMb: 0 }

/** Columns added after the first schema, for data directories made before them. */
const MIGRATIONS: ReadonlyArray<[column: string, ddl: string]> = [
  ['limits', "ALTER TABLE deployments ADD COLUMN limits TEXT NOT NULL DEFAULT '{}'"],
  ['egress_allow', "ALTER TABLE deployments ADD COLUMN egress_allow TEXT NOT NULL DEFAULT '[]'"],
]

function migrate(db: DatabaseSync): void {
  const columns = new Set(
    (db.prepare('PRAGMA table_info(deployments)').all() as Array<{ name: string }>).map((c) => c.name),
  )
  for (const [column, ddl] of MIGRATIONS) if (!columns.has(column)) db.exec(ddl)
}

function toRecord(row: FunctionRow): FunctionRecord {
  return {
    name: row.name,
    module: row.module,
    runtime: row.runtime,
    version: row.version,
    params: JSON.parse(row.params) as Parameter[],
    deployedAtMs: row.deployed_at_ms,
    codeHash: row.code_hash,
    limits: { ...NO_LIMITS, ...(JSON.parse(row.limits) as Partial<FunctionLimits>) },
    egressAllow: JSON.parse(row.egress_allow) as string[],
  }
}

const HASH = /^[0-9a-f]{64}$/

/** Temporary blob files (`.HASH.UUID.tmp`) left by a write that never finished. */
const TEMP_BLOB = /^\.[0-9a-f]{64}\.[0-9a-f-]{36}\.tmp$/

/** Removes temporary blob files a crash left behind; resolves how many. */
async function removeLeftovers(blobDir: string): Promise<number> {
  let removed = 0
  for (const entry of await readdir(blobDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !TEMP_BLOB.test(entry.name)) continue
    await rm(join(entry.parentPath, entry.name), { force: true })
    removed++
  }
  return removed
}

/**
 * Why `dir` cannot be written, if that is the reason: the error of a write
 * check on it, or on its nearest existing ancestor (a recursive mkdir on a
 * read-only file system reports ENOENT, not EROFS).
 */
async function unwritable(dir: string): Promise<unknown> {
  for (let at = dir; ; at = dirname(at)) {
    try {
      await access(at, constants.F_OK)
    } catch {
      if (dirname(at) === at) return undefined
      continue
    }
    try {
      await access(at, constants.W_OK)
      return undefined
    } catch (error) {
      return isReadOnly(error) ? error : undefined
    }
  }
}

/** A failure to open the store → the storage error, naming the read-only data dir when that is the cause. */
async function openError(error: unknown, path: string, dataDir: string): Promise<unknown> {
  const mapped = storageError(error, path, dataDir)
  if (mapped instanceof OsirisError && mapped.code === 'RESOURCE_EXHAUSTED') return mapped
  const refused = await unwritable(dataDir)
  if (refused === undefined) return mapped
  const cause = error instanceof Error ? error.message : String(error)
  const why = refused instanceof Error ? refused.message : String(refused)
  return new OsirisError('UNAVAILABLE', `data dir is read-only: ${dataDir} (${why}; ${cause})`, { cause: error })
}

export class SqliteStore implements RegistryStore {
  readonly #db: DatabaseSync
  readonly #dataDir: string
  readonly #dbPath: string
  readonly #blobDir: string
  #closed = false

  private constructor(db: DatabaseSync, dataDir: string) {
    this.#db = db
    this.#dataDir = dataDir
    this.#dbPath = join(dataDir, 'registry.db')
    this.#blobDir = join(dataDir, 'code')
  }

  /**
   * Opens (creating when needed) the store in `dataDir`. Rejects with
   * UNAVAILABLE `data dir is read-only: …` or RESOURCE_EXHAUSTED `disk full: …`
   * (path and cause) when the directory cannot be written.
   */
  static async open(dataDir: string): Promise<SqliteStore> {
    const blobDir = join(dataDir, 'code')
    const dbPath = join(dataDir, 'registry.db')
    try {
      // Made private to its user: isolate workers run as another (unprivileged) one and must not read it.
      await mkdir(blobDir, { recursive: true, mode: 0o700 })
      await removeLeftovers(blobDir)
    } catch (error) {
      throw await openError(error, blobDir, dataDir)
    }
    let db: DatabaseSync | undefined
    try {
      db = new DatabaseSync(dbPath)
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;')
      db.exec(SCHEMA)
      migrate(db)
    } catch (error) {
      db?.close()
      throw await openError(error, dbPath, dataDir)
    }
    return new SqliteStore(db, dataDir)
  }

  #check(): void {
    if (this.#closed) throw new OsirisError('CLOSED', 'the registry store is closed')
  }

  #blobPath(hash: string): string {
    return join(this.#blobDir, hash.slice(0, 2), `${hash}.js`)
  }

  async putCode(code: string): Promise<string> {
    this.#check()
    const hash = createHash('sha256').update(code).digest('hex')
    const path = this.#blobPath(hash)
    const dir = join(this.#blobDir, hash.slice(0, 2))
    const tmp = join(dir, `.${hash}.${randomUUID()}.tmp`)
    try {
      await mkdir(dir, { recursive: true })
      const file = await open(tmp, 'wx')
      try {
        await file.writeFile(code, 'utf8')
        await file.sync()
      } finally {
        await file.close()
      }
      await rename(tmp, path)
    } catch (error) {
      // A failed write (a full disk, say) leaves nothing behind.
      await rm(tmp, { force: true }).catch(() => {})
      throw storageError(error, path, this.#dataDir)
    }
    return hash
  }

  /**
   * The code stored under `hash`, checked against it: a blob whose content
   * no longer hashes to its name is UNAVAILABLE `code blob … is corrupt`
   * (deploying the module again rewrites it), never served.
   */
  async getCode(hash: string): Promise<string | undefined> {
    this.#check()
    if (!HASH.test(hash)) return undefined
    const path = this.#blobPath(hash)
    let code: string
    try {
      code = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw storageError(error, path, this.#dataDir)
    }
    const actual = createHash('sha256').update(code).digest('hex')
    if (actual !== hash) {
      throw new OsirisError(
        'UNAVAILABLE',
        `code blob ${hash} is corrupt: ${path} hashes to ${actual}; deploy its module again to rewrite it`,
      )
    }
    return code
  }

  async deploy(deployment: NewDeployment): Promise<DeployOutcome> {
    this.#check()
    const db = this.#db
    db.exec('BEGIN IMMEDIATE')
    try {
      const owners = db.prepare('SELECT name, module FROM functions WHERE name = ?')
      for (const fn of deployment.functions) {
        const owner = owners.get(fn.name) as { module: string } | undefined
        if (owner && owner.module !== deployment.module) {
          throw new OsirisError(
            'INVALID_ARGUMENT',
            `function "${fn.name}" is already deployed by module "${owner.module}"; remove it first or deploy it from that module`,
          )
        }
      }
      const inserted = db
        .prepare(
          'INSERT INTO deployments (module, runtime, code_hash, deployed_at_ms, limits, egress_allow) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          deployment.module,
          deployment.runtime,
          deployment.codeHash,
          Date.now(),
          JSON.stringify(deployment.limits ?? NO_LIMITS),
          JSON.stringify(deployment.egressAllow ?? []),
        )
      const version = Number(inserted.lastInsertRowid)
      const before = db.prepare('SELECT name FROM functions WHERE module = ?').all(deployment.module) as Array<{
        name: string
      }>
      const names = new Set(deployment.functions.map((f) => f.name))
      const removed = before.map((r) => r.name).filter((name) => !names.has(name))
      db.prepare('DELETE FROM functions WHERE module = ?').run(deployment.module)
      const insert = db.prepare('INSERT INTO functions (name, module, version, params) VALUES (?, ?, ?, ?)')
      for (const fn of deployment.functions) insert.run(fn.name, deployment.module, version, JSON.stringify(fn.params))
      const rows = db.prepare(`${SELECT_FUNCTIONS} WHERE f.version = ? ORDER BY f.name`).all(version)
      db.exec('COMMIT')
      return { version, functions: (rows as unknown as FunctionRow[]).map(toRecord), removed }
    } catch (error) {
      // SQLite has already rolled back after some errors (a full disk): a
      // ROLLBACK then would fail and hide the real error.
      if (db.isTransaction) {
        try {
          db.exec('ROLLBACK')
        } catch {}
      }
      throw storageError(error, this.#dbPath, this.#dataDir)
    }
  }

  async listFunctions(): Promise<FunctionRecord[]> {
    this.#check()
    const rows = this.#db.prepare(`${SELECT_FUNCTIONS} ORDER BY f.name`).all()
    return (rows as unknown as FunctionRow[]).map(toRecord)
  }

  async deleteFunction(name: string): Promise<FunctionRecord | undefined> {
    this.#check()
    const row = this.#db.prepare(`${SELECT_FUNCTIONS} WHERE f.name = ?`).get(name) as FunctionRow | undefined
    if (!row) return undefined
    try {
      this.#db.prepare('DELETE FROM functions WHERE name = ?').run(name)
    } catch (error) {
      throw storageError(error, this.#dbPath, this.#dataDir)
    }
    return toRecord(row)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#db.close()
  }
}
