// The messages between a host and its isolate worker processes, over Node's
// IPC channel with `serialization: 'advanced'` (structured clone, so strings
// and arrays of them cross without a JSON pass). Every request carries an id
// the answer repeats; nothing but plain data crosses. The worker is the less
// trusted side: the host checks what it is told (see worker-process.ts).
import type { CallLimits, ErrorCode, InstanceStatus, ValidateResponse } from '@osiris/proto'
import type { LogEntry } from '../executor.ts'

/** The parts of InvokeParams a worker needs (the signal stays with the host; `abort` carries it). */
export interface WorkerInvoke {
  callId: string
  functionName: string
  module: string
  version: number
  codeHash: string
  args: string[]
  timeoutMs: number
  limits?: Partial<CallLimits> | null
  egressAllow?: string[]
  /** `ts` or `js`: the file name guest stacks give the module. */
  runtime?: string
}

/** An OsirisError as it crosses: its code, message and the wire fields (FunctionError's guest too). */
export interface WireError {
  code: ErrorCode
  message: string
  started?: 'never' | 'maybe'
  breach?: 'time' | 'cpu' | 'memory' | 'result'
  retryAfterMs?: number
  guest?: { name: string; message: string; stack: string }
}

/** Host → worker. */
export type ToWorker =
  /** `code` is sent along when the host has not sent this hash to this worker before. */
  | { t: 'invoke'; id: number; params: WorkerInvoke; code?: string }
  | { t: 'abort'; id: number }
  | { t: 'validate'; id: number; runtime: string; source: string; filename: string }
  | { t: 'evict'; module: string; beforeVersion: number }
  /** The answer to a `code` request. */
  | { t: 'code'; id: number; code?: string; error?: WireError }
  /**
   * One part of a `fetch`'s answer as the host's CallFetch delivers it (the head, a body chunk, the
   * end, or ['error', message]); the worker hands it into the isolate and answers `fetch-ack` with
   * the same `ack` and whether the isolate wants more (the next chunk is read only then).
   */
  | { t: 'fetched'; session: number; id: number; part: unknown[]; ack: number }
  | { t: 'close'; graceMs: number }

/** Worker → host. */
export type FromWorker =
  | { t: 'ready'; pid: number }
  | {
      t: 'result'
      id: number
      result: string
      coldStart: boolean
      codeFetchUs: number
      startUs: number
      executionUs: number
    }
  | { t: 'validated'; id: number; response: ValidateResponse }
  | { t: 'failed'; id: number; error: WireError }
  /** Pool and instances changed (coalesced); in-flight counts are the host's own. */
  | { t: 'status'; poolReady: number; poolTarget: number; instances: InstanceStatus[] }
  | { t: 'log'; entry: LogEntry }
  /** Code by hash, when the worker's cache lost what the host sent. */
  | { t: 'code'; id: number; hash: string }
  /**
   * A guest's fetch, carried out by the host (the worker has no network): one session per call.
   * `pool` names the calling function (`module/name`: its connections are its own) and `memoryMb`
   * its memory limit, which bounds the response bodies; the host checks both against its own calls.
   */
  | {
      t: 'fetch'
      session: number
      id: number
      allow: string[]
      pool: string
      memoryMb: number
      request: unknown[]
    }
  | { t: 'fetch-ack'; session: number; ack: number; wanted: boolean }
  | { t: 'fetch-close'; session: number }
  | { t: 'closed' }
