// Prometheus metrics of the controller, served at /metrics on its HTTP port.
// Call outcomes and timings come from the dispatcher's call records; host
// gauges (pool, instances, in flight) are read from the host registry at
// scrape time, so they always match what routing sees.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { CallRecord } from './dispatcher.ts'
import type { HostRegistry } from './host-registry.ts'

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export class ControllerMetrics {
  readonly registry = new Registry()
  readonly #calls: Counter<'function' | 'outcome'>
  readonly #duration: Histogram<'function'>
  readonly #coldStarts: Counter<'function'>
  readonly #coldStartDuration: Histogram
  readonly #queueWait: Histogram
  readonly #breaches: Counter<'kind'>

  constructor(hosts: HostRegistry, queueDepth: () => number) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'osiris_controller_' })
    this.#calls = new Counter({
      name: 'osiris_calls_total',
      help: 'Calls answered, by function and outcome (OK or the error code).',
      labelNames: ['function', 'outcome'],
      registers,
    })
    this.#duration = new Histogram({
      name: 'osiris_call_duration_seconds',
      help: 'Time from the controller receiving a call to its answer.',
      labelNames: ['function'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.#coldStarts = new Counter({
      name: 'osiris_cold_starts_total',
      help: 'Calls that specialized a new instance.',
      labelNames: ['function'],
      registers,
    })
    this.#coldStartDuration = new Histogram({
      name: 'osiris_cold_start_duration_seconds',
      help: 'Host-side time of calls that were cold starts (specialize + run).',
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.#queueWait = new Histogram({
      name: 'osiris_queue_wait_seconds',
      help: 'Time calls waited at the controller for a free instance.',
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.#breaches = new Counter({
      name: 'osiris_limit_breaches_total',
      help: 'Calls ended by a function limit, by kind (time, cpu, memory, result).',
      labelNames: ['kind'],
      registers,
    })
    new Gauge({
      name: 'osiris_queue_depth',
      help: 'Calls waiting for a free instance.',
      registers,
      collect() {
        this.set(queueDepth())
      },
    })
    const perHost = (name: string, help: string, read: (h: ReturnType<HostRegistry['list']>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['host'],
        registers,
        collect() {
          this.reset()
          for (const host of hosts.list()) this.set({ host: host.id }, read(host))
        },
      })
    new Gauge({
      name: 'osiris_hosts',
      help: 'Hosts known to the controller, by state.',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset()
        for (const state of ['ready', 'draining']) {
          this.set({ state }, hosts.list().filter((h) => h.state === state).length)
        }
      },
    })
    perHost('osiris_pool_ready', 'Generic isolates ready in the host warm pool.', (h) => h.status.poolReady)
    perHost('osiris_pool_target', 'Warm pool target of the host.', (h) => h.status.poolTarget)
    perHost('osiris_warm_instances', 'Function instances on the host.', (h) =>
      h.status.instances.reduce((n, i) => n + i.busy + i.idle, 0),
    )
    perHost('osiris_host_in_flight', 'Calls dispatched to the host and not answered yet.', (h) => h.dispatched)
    perHost('osiris_host_rss_bytes', 'Resident memory the host reported.', (h) => h.status.rssBytes)
  }

  /** Records one finished call. */
  record(call: CallRecord): void {
    // Names nobody deployed stay out of the label set: a caller cannot grow it at will.
    const fn = call.outcome === 'NOT_FOUND' ? '(unknown)' : call.name
    this.#calls.inc({ function: fn, outcome: call.outcome })
    this.#duration.observe({ function: fn }, call.durationMs / 1000)
    if (call.queuedMs > 0) this.#queueWait.observe(call.queuedMs / 1000)
    // The host's verdict, as a field: never read from a message (a function's error text could say anything).
    if (call.breach) this.#breaches.inc({ kind: call.breach })
    if (call.response?.coldStart) {
      this.#coldStarts.inc({ function: call.name })
      this.#coldStartDuration.observe(call.response.hostDurationUs / 1e6)
    }
  }
}
