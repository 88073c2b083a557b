// Host options: what an operator may set (units in the names, defaults below),
// resolved once into a frozen, fully specified object.
import { randomUUID } from 'node:crypto'
import type { TlsFiles } from '@osiris/proto'

export interface HostOptions {
  /** Controller's gRPC address, host:port. */
  controller: string
  /** Where this host's HostService listens. Default: the advertised address, else 127.0.0.1:0 (a free port). */
  listen?: string
  /** Address the controller dials; port 0 means the bound port. Default: the listen address. */
  advertise?: string
  /** Default: the name in the TLS certificate, else a random id. */
  hostId?: string
  /**
   * mTLS with the controller: this host's certificate (OU=host, CN=its id)
   * and key, and the cluster CA. Default: none (plaintext).
   */
  tls?: TlsFiles
  /**
   * Isolate worker processes tenant code runs in (worker/), a second isolation
   * layer. Default 0 for now: tenant code in the host process. Opt in while the
   * worker path still misses two things (issue 13): its host-side warm call is
   * about 3 x the in-process one, and a storm of cancelled calls can hold more
   * instances of a function than --max-fn-instances.
   */
  workers?: number
  /** OS memory cap of each isolate worker process (cgroup), MiB. Default 4096. */
  workerMemoryMb?: number
  /** Generic isolates kept ready. Default 8. */
  poolTarget?: number
  /** Heap limit per isolate, MiB. Default 128. */
  memoryLimitMb?: number
  /** Most function instances at once. Default 1000. */
  maxInstances?: number
  /** Limit for a module's top-level code, ms. Default 1000. */
  loadTimeoutMs?: number
  /** Function instances idle this long are disposed, ms. Default 300000 (5 min). */
  idleTtlMs?: number
  /** Bytes of function code kept in the cache. Default 64 MiB. */
  codeCacheBytes?: number
  /** Token (role host) the controller asks of hosts when it has API tokens. Default: none. */
  token?: string
  /** Where to serve GET /metrics (Prometheus), host:port. Default: not served. */
  metricsListen?: string
  /**
   * Bearer token GET /metrics asks for (at least 16 characters). Required to serve metrics on
   * anything but loopback: they name every function run here. Default: none (loopback only).
   */
  metricsToken?: string
  /** Default 1000. */
  heartbeatMs?: number
  /** How long close() waits for in-flight calls, ms. Default 10000. */
  shutdownGraceMs?: number
}

export type ResolvedHostOptions = Readonly<
  Required<Omit<HostOptions, 'advertise' | 'listen' | 'token' | 'metricsListen' | 'metricsToken' | 'tls'>> & {
    tls: TlsFiles | undefined
    metricsListen: string | undefined
    metricsToken: string | undefined
    advertise: string | undefined
    listen: string | undefined
    token: string | undefined
  }
>

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`)
  return v
}

function atLeastZero(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be an integer ≥ 0, got ${v}`)
  return v
}

export function resolveHostOptions(options: HostOptions): ResolvedHostOptions {
  return Object.freeze({
    controller: options.controller,
    listen: options.listen,
    token: options.token,
    metricsListen: options.metricsListen,
    metricsToken: options.metricsToken,
    advertise: options.advertise,
    tls: options.tls,
    hostId: options.hostId ?? `host-${randomUUID().slice(0, 8)}`,
    workers: atLeastZero('workers', options.workers, 0),
    workerMemoryMb: positive('workerMemoryMb', options.workerMemoryMb, 4096),
    poolTarget: positive('poolTarget', options.poolTarget, 8),
    memoryLimitMb: positive('memoryLimitMb', options.memoryLimitMb, 128),
    maxInstances: positive('maxInstances', options.maxInstances, 1000),
    loadTimeoutMs: positive('loadTimeoutMs', options.loadTimeoutMs, 1000),
    idleTtlMs: positive('idleTtlMs', options.idleTtlMs, 300_000),
    codeCacheBytes: positive('codeCacheBytes', options.codeCacheBytes, 64 * 1024 * 1024),
    heartbeatMs: positive('heartbeatMs', options.heartbeatMs, 1000),
    shutdownGraceMs: positive('shutdownGraceMs', options.shutdownGraceMs, 10_000),
  })
}
