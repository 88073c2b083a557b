// Storage faults → stable codes, each naming the path and keeping the real
// cause (the file system's or SQLite's own error) in the message and as
// `cause`: a read-only data directory, a full disk, a corrupt code blob.
// Anything else is passed on unchanged.
import { OsirisError } from '@osiris/proto'

/** SQLite primary result codes (the low byte of an extended code), from sqlite3.h. */
const SQLITE_READONLY = 8
const SQLITE_FULL = 13
const SQLITE_CANTOPEN = 14

function errno(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** The SQLite primary result code of a node:sqlite error, if it is one. */
function sqliteCode(error: unknown): number | undefined {
  const errcode = (error as { errcode?: unknown } | null)?.errcode
  return typeof errcode === 'number' ? errcode & 0xff : undefined
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Whether `error` says the disk (or the quota) is full. */
export function isDiskFull(error: unknown): boolean {
  const code = errno(error)
  return code === 'ENOSPC' || code === 'EDQUOT' || sqliteCode(error) === SQLITE_FULL
}

/** Whether `error` says the file system, or the file, refuses writes. */
export function isReadOnly(error: unknown): boolean {
  const code = errno(error)
  return code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || sqliteCode(error) === SQLITE_READONLY
}

/**
 * A storage failure at `path` (under the data directory `dataDir`) → the
 * error to answer with:
 *   - disk full → RESOURCE_EXHAUSTED `disk full: PATH (cause)`;
 *   - read-only or not writable → UNAVAILABLE `data dir is read-only: DATADIR (cause)`;
 *   - SQLite unable to open its file → UNAVAILABLE `cannot open the registry database PATH (cause)`;
 *   - an OsirisError already, or anything else: unchanged.
 */
export function storageError(error: unknown, path: string, dataDir: string): unknown {
  if (error instanceof OsirisError) return error
  if (isDiskFull(error)) {
    return new OsirisError('RESOURCE_EXHAUSTED', `disk full: ${path} (${messageOf(error)})`, { cause: error })
  }
  if (isReadOnly(error)) {
    return new OsirisError('UNAVAILABLE', `data dir is read-only: ${dataDir} (${messageOf(error)})`, { cause: error })
  }
  if (sqliteCode(error) === SQLITE_CANTOPEN) {
    return new OsirisError('UNAVAILABLE', `cannot open the registry database ${path} (${messageOf(error)})`, {
      cause: error,
    })
  }
  return error
}
