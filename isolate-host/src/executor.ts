// The seam between a host and what runs functions: the isolate executor here,
// the container executor (container-fallback/) for other runtimes. Both take
// the same calls and report the same status.
import type { CallLimits, InstanceStatus, ValidateResponse } from '@osiris/proto'
import type { LogLevel } from './generic-isolate.ts'

export interface InvokeParams {
  callId: string
  functionName: string
  module: string
  version: number
  codeHash: string
  /** One JSON text per argument, already checked by the controller. */
  args: string[]
  /**
   * The caller's deadline for this call, ms; 0: none (the function's own
   * limits.timeoutMs applies, as it does when shorter). A breach names the one
   * that applied: the function's limit as deployed, or the caller's deadline.
   */
  timeoutMs: number
  /** The function's limits as deployed; unset ones (or 0 where 0 is not allowed) take the host's defaults (proto's limits.ts). */
  limits?: Partial<CallLimits> | null
  /** Hosts the function may fetch from even when they resolve to loopback or private addresses (egress.ts). */
  egressAllow?: string[]
  /** The function's runtime, as the InvokeRequest names it: the host picks the executor by it, a container executor its image. */
  runtime?: string
  /**
   * Aborted when the caller has gone (cancelled, disconnected, past its deadline): the executor stops
   * the call's work (isolate call terminated, container process killed), answers CANCELLED, and counts
   * the instance busy until the work has really stopped.
   */
  signal?: AbortSignal
}

export interface InvokeResult {
  /** The return value as JSON text. */
  result: string
  /** This call specialized a new instance. */
  coldStart: boolean
  /** The whole call, µs; the three parts below are within it. */
  durationUs: number
  /** Getting the code: 0 when it was cached. */
  codeFetchUs: number
  /** Specializing a generic instance on a cold start; 0 when warm. */
  startUs: number
  /** Running the function, arguments in and result out. */
  executionUs: number
}

/** Microseconds since `fromMs` (a performance.now() reading). */
export function microsSince(fromMs: number): number {
  return Math.round((performance.now() - fromMs) * 1000)
}

export interface LogEntry {
  timeMs: number
  level: LogLevel
  module: string
  version: number
  functionName: string
  callId: string
  line: string
}

export interface ExecutorStatus {
  poolReady: number
  poolTarget: number
  inFlight: number
  instances: InstanceStatus[]
}

export interface Executor {
  readonly runtimes: readonly string[]
  /** Checks a module at deploy time; resolves the code to store and its functions. */
  validate(runtime: string, source: string, filename: string): Promise<ValidateResponse>
  invoke(params: InvokeParams): Promise<InvokeResult>
  /** Drops warm instances of `module` below `beforeVersion` (all when 0). */
  evict(module: string, beforeVersion: number): void
  status(): ExecutorStatus
  /** Waits for in-flight calls (up to `graceMs`), then disposes everything. */
  close(graceMs: number): Promise<void>
}
