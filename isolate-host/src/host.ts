// An isolate host process's parts wired together: executors, HostService,
// health, and the registry link to the controller.
import * as grpc from '@grpc/grpc-js'
import { bindServer, HealthService, HostService, type HostStatus, parseAddress, shutdownServer } from '@osiris/proto'
import { CodeCache } from './code-cache.ts'
import type { Executor, LogEntry } from './executor.ts'
import { hostServiceHandlers } from './host-service.ts'
import { IsolateExecutor } from './isolate-executor.ts'
import { type HostOptions, type ResolvedHostOptions, resolveHostOptions } from './options.ts'
import { RegistryClient } from './registry-client.ts'

export interface StartHostOptions extends HostOptions {
  /** Where function console output goes. Default: one line per entry on stdout. */
  onLog?: (entry: LogEntry) => void
}

function printLog(entry: LogEntry): void {
  const time = new Date(entry.timeMs).toISOString()
  process.stdout.write(
    `${time} ${entry.level} ${entry.module}@v${entry.version} ${entry.functionName} [${entry.callId}] ${entry.line}\n`,
  )
}

export class Host {
  readonly id: string
  readonly address: string
  readonly options: ResolvedHostOptions
  readonly isolates: IsolateExecutor
  readonly #server: grpc.Server
  readonly #health: HealthService
  readonly #registry: RegistryClient
  #closing: Promise<void> | undefined

  private constructor(
    options: ResolvedHostOptions,
    address: string,
    server: grpc.Server,
    health: HealthService,
    isolates: IsolateExecutor,
    registry: RegistryClient,
  ) {
    this.id = options.hostId
    this.options = options
    this.address = address
    this.#server = server
    this.#health = health
    this.isolates = isolates
    this.#registry = registry
  }

  static async start(input: StartHostOptions): Promise<Host> {
    const options = resolveHostOptions(input)
    let registry: RegistryClient | undefined
    const notify = (): void => registry?.statusChanged()
    const codeCache = new CodeCache((hash, signal) => {
      if (!registry) throw new Error('registry link not up yet')
      return registry.fetchCode(hash, signal)
    }, options.codeCacheBytes)
    const isolates = new IsolateExecutor({
      poolTarget: options.poolTarget,
      memoryLimitMb: options.memoryLimitMb,
      maxInstances: options.maxInstances,
      loadTimeoutMs: options.loadTimeoutMs,
      codeCache,
      onLog: input.onLog ?? printLog,
      onChange: notify,
    })
    const executors: Executor[] = [isolates]
    const server = new grpc.Server()
    const health = new HealthService(['osiris.v1.HostService'])
    health.addTo(server)
    server.addService(HostService.service, hostServiceHandlers(executors))
    const listen = parseAddress(options.listen)
    let port: number
    try {
      port = await bindServer(server, listen.host, listen.port)
    } catch (error) {
      await isolates.close(0)
      throw error
    }
    const address = options.advertise ?? `${listen.host}:${port}`
    const status = (): HostStatus => {
      const s = isolates.status()
      return { ...s, rssBytes: process.memoryUsage.rss(), cachedCode: codeCache.hashes() }
    }
    registry = new RegistryClient({
      controller: options.controller,
      register: {
        hostId: options.hostId,
        address,
        runtimes: executors.flatMap((e) => [...e.runtimes]),
        capacity: options.maxInstances,
        pid: process.pid,
      },
      status,
      onEvict: (module, beforeVersion) => {
        for (const executor of executors) executor.evict(module, beforeVersion)
      },
      heartbeatMs: options.heartbeatMs,
      coalesceMs: 20,
    })
    return new Host(options, address, server, health, isolates, registry)
  }

  /** Resolves once the controller has registered this host. */
  registered(): Promise<void> {
    return this.#registry.ready()
  }

  /** Stops taking calls, lets in-flight ones finish (bounded), then releases everything. Idempotent. */
  close(graceMs = this.options.shutdownGraceMs): Promise<void> {
    this.#closing ??= (async () => {
      this.#health.setAll('NOT_SERVING')
      await this.isolates.close(graceMs)
      this.#registry.close()
      this.#health.close()
      await shutdownServer(this.#server, Math.min(graceMs, 1000))
    })()
    return this.#closing
  }
}
