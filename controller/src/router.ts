// Which host serves a call. In order: a host with a warm, idle instance of the
// function's version; else a host that already holds its code; else any host
// that runs its runtime. Ties go to the host with the fewest calls in flight.
import { OsirisError } from '@osiris/proto'
import type { HostEntry } from './host-registry.ts'
import type { FunctionRecord } from './store/store.ts'

function load(host: HostEntry): number {
  return Math.max(host.dispatched, host.status.inFlight)
}

function leastLoaded(hosts: HostEntry[]): HostEntry | undefined {
  let best: HostEntry | undefined
  for (const host of hosts) if (!best || load(host) < load(best)) best = host
  return best
}

/** Ready hosts that run `runtime`; UNAVAILABLE with the reason when there are none. */
export function hostsForRuntime(hosts: readonly HostEntry[], runtime: string): HostEntry[] {
  const ready = hosts.filter((h) => h.state === 'ready')
  const able = ready.filter((h) => h.runtimes.includes(runtime))
  if (able.length > 0) return able
  const why = ready.length === 0 ? 'no hosts are connected' : `none of the ${ready.length} connected hosts offers it`
  throw new OsirisError('UNAVAILABLE', `no host can run runtime "${runtime}": ${why}`)
}

export function pickHost(hosts: readonly HostEntry[], fn: FunctionRecord): HostEntry {
  const able = hostsForRuntime(hosts, fn.runtime)
  const warm = able.filter((h) => (h.status.instances.find((i) => i.version === fn.version)?.idle ?? 0) > 0)
  const holding = able.filter((h) => h.status.cachedCode.includes(fn.codeHash))
  return (leastLoaded(warm) ?? leastLoaded(holding) ?? leastLoaded(able)) as HostEntry
}
