// The router's preferences, in memory: warm free instances first (least
// loaded), then room for a cold start (least loaded, then a host with a
// generic isolate ready, then one holding the code), within the per-function
// and per-host caps; no able host is UNAVAILABLE with the reason.
import t from 'tap'
import { pickHost, reserve } from '../src/router.ts'
import { addHost, fnRecord, hostRegistry, instances } from './helpers/in-memory.ts'

const limits = { maxInstancesPerFunction: 2 }

t.test('a warm, free instance wins over room for a cold start; least loaded first', async (t) => {
  const registry = hostRegistry()
  t.teardown(() => registry.close())
  const fn = fnRecord('warm')
  addHost(registry, 'empty', { status: { inFlight: 0 } })
  addHost(registry, 'warm-busy', { status: { inFlight: 5, instances: [instances(fn, 1, 1)] } })
  addHost(registry, 'warm-idle', { status: { inFlight: 1, instances: [instances(fn, 0, 1)] } })
  t.equal(pickHost(registry.list(), fn, limits)?.id, 'warm-idle', 'the least-loaded warm host')
  const warmIdle = registry.list().find((h) => h.id === 'warm-idle')
  if (!warmIdle) throw new Error('no host')
  const release = reserve(warmIdle, fn.version)
  t.equal(pickHost(registry.list(), fn, limits)?.id, 'warm-busy', 'its one instance is taken now: the other warm host')
  release()
  t.equal(pickHost(registry.list(), fn, limits)?.id, 'warm-idle', 'free again once released')
})

t.test('cold starts go to the least loaded; ties to a ready pool, then to cached code', async (t) => {
  const registry = hostRegistry()
  t.teardown(() => registry.close())
  const fn = fnRecord('cold')
  addHost(registry, 'loaded', { status: { inFlight: 30, poolReady: 4, cachedCode: [fn.codeHash] } })
  addHost(registry, 'no-pool', { status: { inFlight: 0, poolReady: 0, cachedCode: [fn.codeHash] } })
  addHost(registry, 'pool', { status: { inFlight: 0, poolReady: 2 } })
  t.equal(pickHost(registry.list(), fn, limits)?.id, 'pool', 'equal load: the host with a generic isolate ready')
  addHost(registry, 'pool-and-code', { status: { inFlight: 0, poolReady: 1, cachedCode: [fn.codeHash] } })
  t.equal(pickHost(registry.list(), fn, limits)?.id, 'pool-and-code', 'then the one already holding the code')
  t.equal(
    pickHost(registry.list(), fn, limits, new Set(['pool-and-code', 'pool']))?.id,
    'no-pool',
    'excluded hosts are skipped',
  )
})

t.test('the per-function cap and the host capacity bound cold starts; full means queue', async (t) => {
  const registry = hostRegistry()
  t.teardown(() => registry.close())
  const fn = fnRecord('capped')
  const other = fnRecord('other')
  const a = addHost(registry, 'a', { capacity: 3, status: { instances: [instances(fn, 0, 2)] } })
  addHost(registry, 'b', { capacity: 3, status: { instances: [instances(other, 3, 0)] } })
  const first = [reserve(a.entry, fn.version), reserve(a.entry, fn.version)]
  t.equal(pickHost(registry.list(), fn, limits), undefined, 'a: both instances of fn taken, 2 is the cap; b: full')
  first[0]?.()
  t.equal(pickHost(registry.list(), fn, limits)?.id, 'a', 'one answered: its instance is free again')
  first[1]?.()
  a.report({ instances: [instances(fn, 0, 1)] })
  // Calls dispatched since the last report count as instances that exist for sure.
  const releases = [reserve(a.entry, fn.version), reserve(a.entry, fn.version)]
  t.equal(pickHost(registry.list(), fn, limits), undefined, 'two in flight on a: the cap holds before any report')
  for (const release of releases) release()
  t.equal(pickHost(registry.list(), fn, limits)?.id, 'a')
})

t.test('no host able to run the runtime is UNAVAILABLE with the reason', async (t) => {
  const registry = hostRegistry()
  t.teardown(() => registry.close())
  const fn = fnRecord('py', [], 'python')
  t.throws(() => pickHost(registry.list(), fn, limits), {
    code: 'UNAVAILABLE',
    message: 'no host can run runtime "python": no hosts are connected',
  })
  addHost(registry, 'js-only')
  t.throws(() => pickHost(registry.list(), fn, limits), {
    code: 'UNAVAILABLE',
    message: 'no host can run runtime "python": none of the 1 connected hosts offers it',
  })
  const host = registry.list()[0]
  if (host) host.state = 'draining'
  t.throws(() => pickHost(registry.list(), fn, limits), {
    code: 'UNAVAILABLE',
    message: 'no host can run runtime "python": all 1 connected hosts are draining',
  })
})
