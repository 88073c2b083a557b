// The controller process's parts wired together: store, registries, call and
// deploy paths, the gRPC server with health, and the HTTP gateway.
import type { Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import * as grpc from '@grpc/grpc-js'
import {
  bindServer,
  ClusterService,
  dialTls,
  FunctionService,
  HealthService,
  HostRegistry as HostRegistryService,
  loadTls,
  OsirisError,
  OsirisService,
  ownIdentity,
  parseAddress,
  SERVER_OPTIONS,
  serverCredentials,
  shutdownServer,
} from '@osiris/proto'
import { Authenticator, isLoopback } from './auth.ts'
import { Deployer } from './deployer.ts'
import { Dispatcher } from './dispatcher.ts'
import { FunctionRegistry } from './function-registry.ts'
import {
  clusterServiceHandlers,
  functionServiceHandlers,
  hostRegistryHandlers,
  osirisServiceHandlers,
} from './grpc-api.ts'
import { HostRegistry } from './host-registry.ts'
import { createGateway } from './http-gateway.ts'
import { LogStore } from './log-store.ts'
import { ControllerMetrics } from './metrics.ts'
import { type ControllerOptions, type ResolvedControllerOptions, resolveControllerOptions } from './options.ts'
import { SqliteStore } from './store/sqlite-store.ts'

/** After the last call is answered, longest wait for connections to close by themselves before they are cut, ms. */
const FLUSH_MS = 500

export class Controller {
  readonly options: ResolvedControllerOptions
  readonly functions: FunctionRegistry
  readonly hosts: HostRegistry
  /** gRPC address actually bound, host:port. */
  readonly address: string
  /** Whether API tokens are required. */
  get authEnabled(): boolean {
    return this.options.tokens.length > 0
  }

  /** HTTP gateway address actually bound, host:port. */
  readonly httpAddress: string
  readonly #server: grpc.Server
  readonly #http: HttpServer
  readonly #health: HealthService
  readonly #dispatcher: Dispatcher
  #closing: Promise<void> | undefined

  private constructor(parts: {
    options: ResolvedControllerOptions
    functions: FunctionRegistry
    hosts: HostRegistry
    server: grpc.Server
    http: HttpServer
    health: HealthService
    dispatcher: Dispatcher
    address: string
    httpAddress: string
  }) {
    this.options = parts.options
    this.functions = parts.functions
    this.hosts = parts.hosts
    this.#server = parts.server
    this.#http = parts.http
    this.#health = parts.health
    this.#dispatcher = parts.dispatcher
    this.address = parts.address
    this.httpAddress = parts.httpAddress
  }

  static async start(input: ControllerOptions = {}): Promise<Controller> {
    const options = resolveControllerOptions(input)
    const auth = new Authenticator(options.tokens)
    const grpcAt = parseAddress(options.listen)
    const httpAt = parseAddress(options.httpListen)
    for (const at of [grpcAt, httpAt]) {
      if (!auth.enabled && !isLoopback(at.host)) {
        throw new OsirisError(
          'INVALID_ARGUMENT',
          `refusing to listen on ${at.host} with authentication off: configure API tokens (--tokens-file or OSIRIS_TOKENS), or bind a loopback address`,
        )
      }
    }
    const tls = options.tls && loadTls(options.tls)
    const role = tls && ownIdentity(tls).role
    if (tls && role !== 'controller') {
      throw new OsirisError(
        'INVALID_ARGUMENT',
        `the TLS certificate ${options.tls?.cert} is for a ${role || 'role-less'} peer; the controller needs one with OU=controller`,
      )
    }
    const store = await SqliteStore.open(options.dataDir)
    const functions = await FunctionRegistry.load(store)
    const hosts = new HostRegistry({
      heartbeatMs: options.heartbeatMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      ...(tls && {
        dialHost: (hostId: string, address: string) => dialTls(address, tls, { role: 'host', name: hostId }),
      }),
    })
    let metrics: ControllerMetrics | undefined
    const dispatcher = new Dispatcher(functions, hosts, options, { observe: (call) => metrics?.record(call) })
    metrics = new ControllerMetrics(hosts, () => dispatcher.queue.size)
    const deployer = new Deployer(functions, hosts, options)
    const server = new grpc.Server(SERVER_OPTIONS)
    const health = new HealthService([
      'osiris.v1.OsirisService',
      'osiris.v1.FunctionService',
      'osiris.v1.HostRegistry',
      'osiris.v1.ClusterService',
    ])
    health.addTo(server)
    server.addService(OsirisService.service, osirisServiceHandlers(dispatcher, auth))
    const logs = new LogStore()
    hosts.on('logs', (host, lines) => {
      for (const line of lines) logs.append({ ...line, hostId: host.id })
    })
    server.addService(FunctionService.service, functionServiceHandlers(functions, deployer, logs, auth))
    server.addService(HostRegistryService.service, hostRegistryHandlers(hosts, functions, auth, tls !== undefined))
    server.addService(ClusterService.service, clusterServiceHandlers(hosts, auth))
    const http = createGateway({
      metrics,
      auth,
      dispatcher,
      functions,
      hosts,
      options: { maxBodyBytes: options.maxArgumentBytes + 1024, callTimeoutMs: options.callTimeoutMs, tls },
    })
    try {
      const port = await bindServer(server, grpcAt.host, grpcAt.port, serverCredentials(tls, 'request'))
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject)
        http.listen(httpAt.port, httpAt.host, () => resolve())
      })
      const httpPort = (http.address() as AddressInfo).port
      return new Controller({
        options,
        functions,
        hosts,
        server,
        http,
        health,
        dispatcher,
        address: `${grpcAt.host}:${port}`,
        httpAddress: `${httpAt.host}:${httpPort}`,
      })
    } catch (error) {
      server.forceShutdown()
      http.close()
      hosts.close()
      await store.close()
      throw error
    }
  }

  /**
   * Stops accepting, lets in-flight calls finish within the grace, then ends
   * every host's Connect stream (hosts redial at once, and so find this
   * controller's successor), closes every connection and the store. Bounded
   * by `graceMs` plus the store's close. Idempotent.
   */
  close(graceMs = this.options.shutdownGraceMs): Promise<void> {
    this.#closing ??= (async () => {
      this.#health.setAll('NOT_SERVING')
      this.#health.close()
      this.#dispatcher.close()
      const httpClosed = new Promise<void>((resolve) => this.#http.close(() => resolve()))
      this.#http.closeIdleConnections()
      // No new connections or streams; the hosts' Connect streams stay until the calls on them are answered.
      const deadline = Date.now() + graceMs
      const serverClosed = shutdownServer(this.#server, graceMs)
      await this.#dispatcher.idle(graceMs)
      // Hosts see their stream end and redial at once (finding this controller's successor).
      this.hosts.close()
      // Answers already handed to grpc-js get out before what is left is cut.
      await Promise.race([serverClosed, delay(Math.max(0, Math.min(FLUSH_MS, deadline - Date.now())))])
      this.#server.forceShutdown()
      this.#http.closeAllConnections()
      await httpClosed
      await this.functions.store.close()
    })()
    return this.#closing
  }
}
