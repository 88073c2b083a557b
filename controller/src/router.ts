// Which host serves a call, from the controller's view of each host: what it
// last reported plus what the controller has dispatched since.
//   1. a host with a warm, free instance of the function's version, least
//      loaded first (warm affinity: a function that one warm host keeps up
//      with stays there);
//   2. else a host with room for one more instance (under its own instance cap
//      and the per-function cap): the least loaded, ties going to a host with
//      a generic isolate ready, then to one that already holds the code;
//   3. else nothing: the caller queues.
// No host that runs the runtime at all is UNAVAILABLE at once.
import { OsirisError } from '@osiris/proto'
import type { HostEntry } from './host-registry.ts'
import type { FunctionRecord } from './store/store.ts'

export interface RouteLimits {
  /** Most instances of one function version on one host. */
  maxInstancesPerFunction: number
}

function reported(host: HostEntry, version: number): number {
  const s = host.status.instances.find((i) => i.version === version)
  return s ? s.busy + s.idle : 0
}

/** Instances of `version` on `host` for sure: reported, or proven by concurrent calls since. */
export function instancesOf(host: HostEntry, version: number): number {
  return Math.max(reported(host, version), host.peak.get(version) ?? 0, host.active.get(version) ?? 0)
}

function totalInstances(host: HostEntry): number {
  const versions = new Set([...host.status.instances.map((i) => i.version), ...host.active.keys(), ...host.peak.keys()])
  let sum = 0
  for (const version of versions) sum += instancesOf(host, version)
  return sum
}

function freeWarm(host: HostEntry, version: number): number {
  return instancesOf(host, version) - (host.active.get(version) ?? 0)
}

function hasRoom(host: HostEntry, version: number, limits: RouteLimits): boolean {
  return totalInstances(host) < host.capacity && instancesOf(host, version) < limits.maxInstancesPerFunction
}

function load(host: HostEntry): number {
  return Math.max(host.dispatched, host.status.inFlight) / Math.max(1, host.capacity)
}

function leastLoaded(hosts: HostEntry[]): HostEntry | undefined {
  let best: HostEntry | undefined
  for (const host of hosts) if (!best || load(host) < load(best)) best = host
  return best
}

/**
 * For a cold start: the least loaded host, ties going to one with a generic
 * isolate ready in its pool, then to one already holding the code.
 */
function bestForColdStart(hosts: HostEntry[], codeHash: string): HostEntry | undefined {
  const rank = (h: HostEntry): [number, number, number] => [
    load(h),
    h.status.poolReady > 0 ? 0 : 1,
    h.status.cachedCode.includes(codeHash) ? 0 : 1,
  ]
  let best: HostEntry | undefined
  let bestRank: [number, number, number] | undefined
  for (const host of hosts) {
    const r = rank(host)
    if (
      !bestRank ||
      r[0] < bestRank[0] ||
      (r[0] === bestRank[0] && (r[1] < bestRank[1] || (r[1] === bestRank[1] && r[2] < bestRank[2])))
    ) {
      best = host
      bestRank = r
    }
  }
  return best
}

/** Hosts taking new work that run `runtime`; UNAVAILABLE with the reason when there are none. */
export function hostsForRuntime(hosts: readonly HostEntry[], runtime: string): HostEntry[] {
  const ready = hosts.filter((h) => h.state === 'ready')
  const able = ready.filter((h) => h.runtimes.includes(runtime))
  if (able.length > 0) return able
  const why =
    hosts.length === 0
      ? 'no hosts are connected'
      : ready.length === 0
        ? `all ${hosts.length} connected hosts are draining`
        : `none of the ${ready.length} connected hosts offers it`
  throw new OsirisError('UNAVAILABLE', `no host can run runtime "${runtime}": ${why}`)
}

/** The host to run `fn` now, or undefined when every able host is full. */
export function pickHost(
  hosts: readonly HostEntry[],
  fn: FunctionRecord,
  limits: RouteLimits,
  exclude?: ReadonlySet<string>,
): HostEntry | undefined {
  const able = hostsForRuntime(hosts, fn.runtime).filter((h) => !exclude?.has(h.id))
  const warm = leastLoaded(able.filter((h) => freeWarm(h, fn.version) > 0))
  if (warm) return warm
  return bestForColdStart(
    able.filter((h) => hasRoom(h, fn.version, limits)),
    fn.codeHash,
  )
}

/** Records a call dispatched to `host`; the returned function records its answer. */
export function reserve(host: HostEntry, version: number): () => void {
  const active = (host.active.get(version) ?? 0) + 1
  host.active.set(version, active)
  host.peak.set(version, Math.max(host.peak.get(version) ?? 0, active))
  let released = false
  return () => {
    if (released) return
    released = true
    const left = (host.active.get(version) ?? 1) - 1
    if (left > 0) host.active.set(version, left)
    else host.active.delete(version)
  }
}
