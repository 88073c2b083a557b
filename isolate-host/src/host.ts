// An isolate host process's parts wired together: executors, HostService,
// health, and the registry link to the controller.
import type { Server as HttpServer } from 'node:http'
import * as grpc from '@grpc/grpc-js'
import {
  bindServer,
  dialTls,
  HealthService,
  HostService,
  type HostStatus,
  isLoopback,
  loadTls,
  newCallKey,
  OsirisError,
  ownIdentity,
  parseAddress,
  SERVER_OPTIONS,
  serverCredentials,
  shutdownServer,
  type TlsMaterial,
} from '@osiris/proto'
import { CodeCache } from './code-cache.ts'
import type { Executor, LogEntry } from './executor.ts'
import { hostServiceHandlers } from './host-service.ts'
import { IsolateExecutor } from './isolate-executor.ts'
import { HostMetrics } from './metrics.ts'
import { type HostOptions, type ResolvedHostOptions, resolveHostOptions } from './options.ts'
import { RegistryClient } from './registry-client.ts'
import { WorkerExecutor } from './worker/worker-executor.ts'

/** What a host lends the executors it is given (see `StartHostOptions.executors`). */
export interface ExecutorContext {
  /** Function code by content hash: this host's cache, else fetched from the controller. */
  code(hash: string): Promise<string>
  /** Records code an executor validated, so calls here need not fetch it. */
  keepCode(code: string): void
  /** Tells the controller this host's status changed (coalesced). */
  onChange(): void
  onLog(entry: LogEntry): void
}

export interface StartHostOptions extends HostOptions {
  /** Where function console output goes. Default: forwarded to the controller, for `osiris logs`. */
  onLog?: (entry: LogEntry) => void
  /**
   * Executors for runtimes beyond js/ts (the container fallback), made once the
   * host's code cache exists. Their runtimes are registered with the
   * controller; they are closed with the host.
   */
  executors?: (context: ExecutorContext) => Executor[]
}

/** How long the isolate workers may take to start before the host gives up, ms. */
const WORKERS_START_MS = 60_000

/** After the controller's drain ack, how long no new call must arrive before the host leaves. */
const DRAIN_QUIET_MS = 100

/** The host id a TLS certificate gives: its CN, which an explicit id must match. */
function certifiedHostId(tls: TlsMaterial, cert: string, asked: string | undefined): string {
  const { role, name } = ownIdentity(tls)
  if (role !== 'host' || !name) {
    throw new OsirisError(
      'INVALID_ARGUMENT',
      `the TLS certificate ${cert} is not a host's: a host needs one with OU=host and its id as CN`,
    )
  }
  if (asked !== undefined && asked !== name) {
    throw new OsirisError(
      'INVALID_ARGUMENT',
      `host id "${asked}" does not match its TLS certificate, which is for "${name}"`,
    )
  }
  return name
}

/**
 * Why this host must not listen where it was asked to, if it must not. With
 * neither a token nor a certificate, the controller it registers with has auth
 * off and listens on loopback only; so does the host (as the controller does).
 * Metrics name every function run here: off loopback they need a token.
 */
function exposure(options: ResolvedHostOptions, listenHost: string, tls: boolean): string | undefined {
  if (!tls && !options.token && !isLoopback(listenHost)) {
    return `refusing to listen on ${listenHost} with no credentials: give this host a token (--token or OSIRIS_TOKEN) or a TLS certificate (--tls), or bind a loopback address`
  }
  const metricsHost = options.metricsListen && parseAddress(options.metricsListen).host
  if (metricsHost && !isLoopback(metricsHost) && !options.metricsToken) {
    return `refusing to serve metrics on ${metricsHost} without a metrics token (--metrics-token or OSIRIS_METRICS_TOKEN): they name every function run here; or bind a loopback address`
  }
  if (options.metricsToken !== undefined && options.metricsToken.length < 16) {
    return 'the metrics token must be at least 16 characters'
  }
  return undefined
}

export class Host {
  readonly id: string
  readonly address: string
  readonly options: ResolvedHostOptions
  /** JS/TS: in worker processes, or (0 workers) in this process. */
  readonly isolates: IsolateExecutor | WorkerExecutor
  /** The executors given to `start`, beside the isolates. */
  readonly extra: readonly Executor[]
  readonly #server: grpc.Server
  readonly #health: HealthService
  readonly #registry: RegistryClient
  readonly #drain: { draining: boolean; acked: () => void }
  #closing: Promise<void> | undefined
  /** Where GET /metrics is served, host:port, when it is. */
  metricsAddress: string | undefined
  #metricsServer: HttpServer | undefined
  /** Resolves with the controller's reason the first time it refuses this host's credentials. */
  refused: Promise<string> = new Promise(() => {})
  /**
   * The secret HostService callers must present as `osiris-call-key` (proto's
   * host-key.ts): sent to the controller at registration and nowhere else.
   * For in-process tools (bench) that call this host's HostService directly.
   */
  readonly callKey: string

  private constructor(
    options: ResolvedHostOptions,
    address: string,
    server: grpc.Server,
    health: HealthService,
    isolates: IsolateExecutor | WorkerExecutor,
    extra: readonly Executor[],
    registry: RegistryClient,
    drain: { draining: boolean; acked: () => void },
    callKey: string,
  ) {
    this.callKey = callKey
    this.id = options.hostId
    this.options = options
    this.address = address
    this.#server = server
    this.#health = health
    this.isolates = isolates
    this.extra = extra
    this.#registry = registry
    this.#drain = drain
  }

  static async start(input: StartHostOptions): Promise<Host> {
    const tls = input.tls && loadTls(input.tls)
    const options = resolveHostOptions(
      tls && input.tls ? { ...input, hostId: certifiedHostId(tls, input.tls.cert, input.hostId) } : input,
    )
    let registry: RegistryClient | undefined
    const notify = (): void => registry?.statusChanged()
    const codeCache = new CodeCache((hash, signal) => {
      if (!registry) throw new Error('registry link not up yet')
      return registry.fetchCode(hash, signal)
    }, options.codeCacheBytes)
    // Function console output goes to the controller (`osiris logs`) unless the caller takes it.
    const onLog = input.onLog ?? ((entry: LogEntry) => registry?.log(entry))
    const limits = {
      poolTarget: options.poolTarget,
      memoryLimitMb: options.memoryLimitMb,
      maxInstances: options.maxInstances,
      loadTimeoutMs: options.loadTimeoutMs,
      idleTtlMs: options.idleTtlMs,
      onLog,
      onChange: notify,
    }
    // Tenant code runs in worker processes; with 0 workers, in this process (for measurement).
    const isolates =
      options.workers === 0
        ? new IsolateExecutor({ ...limits, codeCache })
        : new WorkerExecutor({
            ...limits,
            workers: options.workers,
            workerMemoryMb: options.workerMemoryMb,
            code: (hash) => codeCache.get(hash),
            keepCode: (code) => void codeCache.put(code),
          })
    // The host registers while its workers start (a second or so each): calls and deploy checks
    // wait for them, and the warm pool shows in the status once they report it.
    if (isolates instanceof WorkerExecutor) {
      isolates.ready(WORKERS_START_MS).catch((error: Error) => process.stderr.write(`${error.message}\n`))
    }
    const extra =
      input.executors?.({
        code: (hash) => codeCache.get(hash),
        keepCode: (code) => void codeCache.put(code),
        onChange: notify,
        onLog,
      }) ?? []
    const executors: Executor[] = [isolates, ...extra]
    const server = new grpc.Server(SERVER_OPTIONS)
    const health = new HealthService(['osiris.v1.HostService'])
    health.addTo(server)
    // Metrics only when served: their collectors (an event-loop delay sampler among them) cost otherwise.
    const metrics = options.metricsListen ? new HostMetrics(() => executors) : undefined
    const callKey = newCallKey()
    server.addService(
      HostService.service,
      hostServiceHandlers(executors, metrics && ((call) => metrics.record(call)), tls !== undefined, callKey),
    )
    const listen = parseAddress(options.listen ?? options.advertise ?? '127.0.0.1:0')
    const exposed = exposure(options, listen.host, tls !== undefined)
    if (exposed !== undefined) {
      await Promise.all(executors.map((e) => e.close(0)))
      throw new OsirisError('INVALID_ARGUMENT', exposed)
    }
    let port: number
    try {
      port = await bindServer(server, listen.host, listen.port, serverCredentials(tls, 'require'))
    } catch (error) {
      await Promise.all(executors.map((e) => e.close(0)))
      throw error
    }
    // An advertised port of 0 means "the port this host bound".
    const advertised = options.advertise === undefined ? listen : parseAddress(options.advertise)
    const address = `${advertised.host}:${advertised.port === 0 ? port : advertised.port}`
    const drain = { draining: false, acked: () => {} }
    const refusal = Promise.withResolvers<string>()
    const status = (): HostStatus => {
      const all = executors.map((e) => e.status())
      const sum = (key: 'poolReady' | 'poolTarget' | 'inFlight'): number => all.reduce((n, x) => n + x[key], 0)
      const s = {
        poolReady: sum('poolReady'),
        poolTarget: sum('poolTarget'),
        inFlight: sum('inFlight'),
        instances: all.flatMap((x) => x.instances),
      }
      // With worker processes, their memory is this host's too.
      const rssBytes = process.memoryUsage.rss() + (isolates instanceof WorkerExecutor ? isolates.workersRssBytes() : 0)
      return { ...s, rssBytes, cachedCode: codeCache.hashes(), draining: drain.draining }
    }
    registry = new RegistryClient({
      controller: options.controller,
      tls: tls && dialTls(options.controller, tls, { role: 'controller' }),
      token: options.token,
      register: {
        hostId: options.hostId,
        address,
        runtimes: executors.flatMap((e) => [...e.runtimes]),
        capacity: options.maxInstances,
        pid: process.pid,
        callKey,
      },
      status,
      onEvict: (module, beforeVersion) => {
        for (const executor of executors) executor.evict(module, beforeVersion)
      },
      onDrainAck: () => drain.acked(),
      onRefused: (message) => {
        process.stderr.write(`controller ${options.controller} refused this host: ${message}\n`)
        refusal.resolve(message)
      },
      onUnreachable: (message) => {
        process.stderr.write(`cannot reach controller ${options.controller} (retrying): ${message}\n`)
      },
      heartbeatMs: options.heartbeatMs,
      coalesceMs: 20,
    })
    const host = new Host(options, address, server, health, isolates, extra, registry, drain, callKey)
    if (metrics && options.metricsListen) {
      const served = await metrics.serve(options.metricsListen, options.metricsToken)
      host.#metricsServer = served.server
      host.metricsAddress = served.address
    }
    host.refused = refusal.promise
    return host
  }

  /** Resolves once the controller has registered this host. */
  registered(): Promise<void> {
    return this.#registry.ready()
  }

  /**
   * Drains, then releases everything. Idempotent. The host tells the controller
   * it is draining and waits for its ack (so nothing new is routed here), keeps
   * serving calls already on their way until none has arrived for a moment,
   * lets in-flight calls finish (bounded by `graceMs`), then leaves.
   */
  close(graceMs = this.options.shutdownGraceMs): Promise<void> {
    this.#closing ??= (async () => {
      const deadline = Date.now() + graceMs
      this.#health.setAll('NOT_SERVING')
      await this.#drainRouting(graceMs)
      await this.isolates.quiet(DRAIN_QUIET_MS, Math.max(0, deadline - Date.now()))
      await shutdownServer(this.#server, Math.max(0, deadline - Date.now()))
      await Promise.all([this.isolates, ...this.extra].map((e) => e.close(Math.max(0, deadline - Date.now()))))
      this.#registry.close()
      this.#health.close()
      this.#metricsServer?.close()
    })()
    return this.#closing
  }

  /** Marks this host draining and waits (bounded) for the controller to acknowledge it. */
  #drainRouting(graceMs: number): Promise<void> {
    if (!this.#registry.registered) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.min(graceMs, 2 * this.options.heartbeatMs))
      this.#drain.acked = () => {
        clearTimeout(timer)
        resolve()
      }
      this.#drain.draining = true
      this.#registry.sendStatusNow()
    })
  }
}
