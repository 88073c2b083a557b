// Controller options: what an operator may set (units in the names, defaults
// below), resolved once into a frozen, fully specified object.
import { resolve } from 'node:path'
import type { TlsFiles } from '@osiris/proto'
import type { Role } from './auth.ts'

export interface ControllerOptions {
  /** gRPC listen address, host:port. Default 127.0.0.1:50051; port 0 picks one. */
  listen?: string
  /** HTTP gateway listen address. Default 127.0.0.1:8080; port 0 picks one. */
  httpListen?: string
  /** Registry database and code blobs. Default ./.osiris */
  dataDir?: string
  /** Wall-clock limit of a call when the caller sets none shorter, ms. Default 30000. */
  callTimeoutMs?: number
  /** Largest module source accepted by deploy, bytes. Default 1 MiB. */
  maxSourceBytes?: number
  /** Largest total of a call's arguments, bytes. Default 1 MiB. */
  maxArgumentBytes?: number
  /** Most instances of one function version on one host. Default 32. */
  maxInstancesPerFunction?: number
  /** Most calls waiting per function for a free instance; past it, RESOURCE_EXHAUSTED. Default 256. */
  maxQueuedPerFunction?: number
  /** Heartbeat interval asked of hosts, ms. Default 1000. */
  heartbeatMs?: number
  /** A host silent this long is removed, ms. Default 3000. */
  heartbeatTimeoutMs?: number
  /** How long a deploy waits for a host to validate the module, ms. Default 10000. */
  validateTimeoutMs?: number
  /** How long close() lets in-flight calls finish, ms. Default 10000. */
  shutdownGraceMs?: number
  /**
   * After start, how long calls wait (within their deadlines) for a first host
   * to register instead of failing with "no hosts are connected", ms. Ends
   * once a host registers. Default 3000.
   */
  startupHoldMs?: number
  /** API tokens and their roles (auth.ts). None: auth is off and only loopback addresses may be bound. */
  tokens?: ReadonlyArray<{ role: Role; token: string }>
  /**
   * TLS on the gRPC and HTTP endpoints, and mTLS with hosts: the controller's
   * certificate (OU=controller) and key, and the cluster CA that signs hosts'
   * certificates. Default: none (plaintext).
   */
  tls?: TlsFiles
}

export type ResolvedControllerOptions = Readonly<Required<Omit<ControllerOptions, 'tls'>>> & {
  readonly tls: TlsFiles | undefined
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`)
  return v
}

export function resolveControllerOptions(options: ControllerOptions = {}): ResolvedControllerOptions {
  return Object.freeze({
    listen: options.listen ?? '127.0.0.1:50051',
    httpListen: options.httpListen ?? '127.0.0.1:8080',
    dataDir: resolve(options.dataDir ?? '.osiris'),
    callTimeoutMs: positive('callTimeoutMs', options.callTimeoutMs, 30_000),
    maxSourceBytes: positive('maxSourceBytes', options.maxSourceBytes, 1024 * 1024),
    maxArgumentBytes: positive('maxArgumentBytes', options.maxArgumentBytes, 1024 * 1024),
    maxInstancesPerFunction: positive('maxInstancesPerFunction', options.maxInstancesPerFunction, 32),
    maxQueuedPerFunction: positive('maxQueuedPerFunction', options.maxQueuedPerFunction, 256),
    heartbeatMs: positive('heartbeatMs', options.heartbeatMs, 1000),
    heartbeatTimeoutMs: positive('heartbeatTimeoutMs', options.heartbeatTimeoutMs, 3000),
    validateTimeoutMs: positive('validateTimeoutMs', options.validateTimeoutMs, 10_000),
    shutdownGraceMs: positive('shutdownGraceMs', options.shutdownGraceMs, 10_000),
    startupHoldMs: positive('startupHoldMs', options.startupHoldMs, 3000),
    tokens: options.tokens ?? [],
    tls: options.tls,
  })
}
