// Container executor options: what a user may set (units in the names or
// documented), and resolveContainerOptions() turning them into one complete,
// frozen set.
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LogEntry } from '@osiris/isolate-host'
import { OsirisError } from '@osiris/proto'

export interface ContainerLimits {
  /** Memory of one container, swap included, MiB. Default 128. */
  memoryMb: number
  /** Relative CPU weight against other containers (Docker CpuShares). Default 512. */
  cpuShares: number
  /** Most CPUs one container may use, in millicpus. Default 1000 (one CPU). */
  cpuMillis: number
  /** Most processes and threads in one container. Default 64. */
  pids: number
  /** Size of the writable /tmp (tmpfs), MiB. Default 16. */
  tmpMb: number
}

export interface ContainerExecutorOptions {
  /** Engine socket; default `$DOCKER_HOST` (unix://) or /var/run/docker.sock. */
  socketPath?: string
  /** Runtimes to serve (names from runtimes.ts). Default: every runtime whose image is present. */
  runtimes: readonly string[]
  /** Image per runtime, overriding the runtime's default (e.g. an official python image). */
  images?: Readonly<Record<string, string>>
  /** Generic containers kept ready per runtime. Default 1 (a taken one is replaced in the background, ~0.6 s). */
  poolTarget?: number
  /** Function containers idle this long are removed, ms. Default 300000. */
  idleTtlMs?: number
  /** Most containers (generic and function) at once. Default 32. */
  maxContainers?: number
  /** A container whose shim has not said hello by then is removed, ms. Default 30000. */
  startTimeoutMs?: number
  /** Limit for a module's top level when it is loaded, ms. Default 10000. */
  loadTimeoutMs?: number
  /** Default limits of each container. */
  limits?: Partial<ContainerLimits>
  /** Container user, `uid:gid`. Default 65534:65534 (nobody). */
  user?: string
  /** Where the per-container socket directories live (on the engine's machine). Default $TMPDIR/osiris-containers. */
  runDir?: string
  /** Function code by content hash (the host's cache, else the controller). */
  code: (hash: string) => Promise<string>
  /** Records code this executor validated so calls need not fetch it. */
  keepCode?: (code: string) => void
  onLog?: (entry: LogEntry) => void
  onChange?: () => void
}

export interface ResolvedContainerOptions {
  readonly socketPath: string | undefined
  readonly runtimes: readonly string[]
  readonly images: Readonly<Record<string, string>>
  readonly poolTarget: number
  readonly idleTtlMs: number
  readonly maxContainers: number
  readonly startTimeoutMs: number
  readonly loadTimeoutMs: number
  readonly limits: Readonly<ContainerLimits>
  readonly user: string
  readonly runDir: string
  readonly code: (hash: string) => Promise<string>
  readonly keepCode: (code: string) => void
  readonly onLog: (entry: LogEntry) => void
  readonly onChange: () => void
}

export const DEFAULT_LIMITS: Readonly<ContainerLimits> = Object.freeze({
  memoryMb: 128,
  cpuShares: 512,
  cpuMillis: 1000,
  pids: 64,
  tmpMb: 16,
})

function count(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min) {
    throw new OsirisError('INVALID_ARGUMENT', `${name} must be an integer ≥ ${min}, got ${value}`)
  }
  return value
}

export function resolveContainerOptions(options: ContainerExecutorOptions): ResolvedContainerOptions {
  const limits = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ContainerLimits)[]) {
    limits[key] = count(`limits.${key}`, options.limits?.[key], DEFAULT_LIMITS[key], 1)
  }
  if (limits.memoryMb < 8)
    throw new OsirisError('INVALID_ARGUMENT', `limits.memoryMb must be ≥ 8, got ${limits.memoryMb}`)
  return Object.freeze({
    socketPath: options.socketPath,
    runtimes: Object.freeze([...options.runtimes]),
    images: Object.freeze({ ...options.images }),
    poolTarget: count('poolTarget', options.poolTarget, 1),
    idleTtlMs: count('idleTtlMs', options.idleTtlMs, 300_000, 1),
    maxContainers: count('maxContainers', options.maxContainers, 32, 1),
    startTimeoutMs: count('startTimeoutMs', options.startTimeoutMs, 30_000, 1),
    loadTimeoutMs: count('loadTimeoutMs', options.loadTimeoutMs, 10_000, 1),
    limits: Object.freeze(limits),
    user: options.user ?? '65534:65534',
    runDir: options.runDir ?? join(tmpdir(), 'osiris-containers'),
    code: options.code,
    keepCode: options.keepCode ?? (() => {}),
    onLog: options.onLog ?? (() => {}),
    onChange: options.onChange ?? (() => {}),
  })
}
