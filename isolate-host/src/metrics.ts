// Prometheus metrics of one host, served over HTTP on its metrics address
// (`osiris host --metrics 127.0.0.1:9464`): invocations by function and
// outcome, their duration, cold starts, limit breaches by kind, and the pool
// and instance gauges read from the executors at scrape time.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BreachKind, parseAddress, secretMatches } from '@osiris/proto'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { Executor } from './executor.ts'

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]

export interface InvokeRecord {
  functionName: string
  /** 'OK' or the error code. */
  outcome: string
  message: string
  /** The limit the call broke, as the executor observed it (OsirisError.breach). */
  breach?: BreachKind | undefined
  coldStart: boolean
  durationMs: number
}

export class HostMetrics {
  readonly registry = new Registry()
  readonly #invocations: Counter<'function' | 'outcome'>
  readonly #duration: Histogram<'cold'>
  readonly #breaches: Counter<'kind'>

  constructor(executors: () => readonly Executor[]) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'osiris_host_process_' })
    this.#invocations = new Counter({
      name: 'osiris_host_invocations_total',
      help: 'Calls run on this host, by function and outcome (OK or the error code).',
      labelNames: ['function', 'outcome'],
      registers,
    })
    this.#duration = new Histogram({
      name: 'osiris_host_invocation_duration_seconds',
      help: 'Time a call took on this host; cold="true" includes specializing the instance.',
      labelNames: ['cold'],
      buckets: BUCKETS,
      registers,
    })
    this.#breaches = new Counter({
      name: 'osiris_host_limit_breaches_total',
      help: 'Calls ended by a function limit, by kind (time, cpu, memory, result).',
      labelNames: ['kind'],
      registers,
    })
    const gauge = (name: string, help: string, read: (e: Executor) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(executors().reduce((n, e) => n + read(e), 0))
        },
      })
    gauge('osiris_host_pool_ready', 'Generic instances ready in the warm pools.', (e) => e.status().poolReady)
    gauge('osiris_host_pool_target', 'Warm pool targets.', (e) => e.status().poolTarget)
    gauge('osiris_host_in_flight', 'Calls running on this host.', (e) => e.status().inFlight)
    gauge('osiris_host_warm_instances', 'Function instances on this host.', (e) =>
      e.status().instances.reduce((n, i) => n + i.busy + i.idle, 0),
    )
  }

  record(call: InvokeRecord): void {
    this.#invocations.inc({ function: call.functionName, outcome: call.outcome })
    this.#duration.observe({ cold: String(call.coldStart) }, call.durationMs / 1000)
    if (call.breach) this.#breaches.inc({ kind: call.breach })
  }

  /**
   * Serves GET /metrics on `address` (host:port; port 0 picks one); resolves the bound address.
   * With `token`, a request without `authorization: Bearer TOKEN` is 401 (compared in constant time).
   */
  async serve(address: string, token?: string): Promise<{ server: Server; address: string }> {
    const at = parseAddress(address)
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n')
        return
      }
      const presented = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
      if (token !== undefined && !secretMatches(token, presented)) {
        res
          .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
          .end('this host\'s metrics need "authorization: Bearer TOKEN" (its --metrics-token)\n')
        return
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
      )
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(at.port, at.host, () => resolve())
    })
    return { server, address: `${at.host}:${(server.address() as AddressInfo).port}` }
  }
}
