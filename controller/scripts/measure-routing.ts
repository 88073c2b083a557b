// Measures the controller's routing decision (pickHost + reserve/release) per
// call, in µs, over hosts with many warm instances each. Run from the root:
//   node --conditions=osiris-source controller/scripts/measure-routing.ts [hosts] [functionsPerHost]
import { HostEntry } from '../src/host-registry.ts'
import { pickHost, reserve } from '../src/router.ts'
import type { FunctionRecord } from '../src/store/store.ts'

const hostCount = Number(process.argv[2] ?? 3)
const perHost = Number(process.argv[3] ?? 200)
// The stream is never written in this measurement: routing reads only the host's state.
const stream = { write: () => true, end: () => {} } as unknown as ConstructorParameters<typeof HostEntry>[1]

const hosts = Array.from({ length: hostCount }, (_, h) => {
  const entry = new HostEntry(
    { hostId: `h${h}`, address: `127.0.0.1:${10000 + h}`, runtimes: ['js', 'ts'], capacity: 1000, pid: 1 },
    stream,
  )
  entry.status = {
    poolReady: 8,
    poolTarget: 8,
    inFlight: 0,
    instances: Array.from({ length: perHost }, (_, i) => ({
      module: `m${i}`,
      version: h * perHost + i,
      busy: 0,
      idle: 1,
    })),
    rssBytes: 0,
    cachedCode: [],
    draining: false,
  }
  return entry
})
const functions: FunctionRecord[] = Array.from({ length: hostCount * perHost }, (_, v) => ({
  name: `f${v}`,
  module: `m${v}`,
  runtime: 'js',
  version: v,
  params: [],
  deployedAtMs: 0,
  codeHash: '',
}))

const samples: number[] = []
for (let i = 0; i < 20_000; i++) {
  const fn = functions[i % functions.length] as FunctionRecord
  const started = process.hrtime.bigint()
  const host = pickHost(hosts, fn, { maxInstancesPerFunction: 32 })
  const release = host ? reserve(host, fn.version) : undefined
  release?.()
  samples.push(Number(process.hrtime.bigint() - started) / 1000)
}
const sorted = samples.slice(5000).sort((a, b) => a - b)
const at = (p: number): string => (sorted[Math.floor(p * sorted.length)] ?? Number.NaN).toFixed(2)
console.log(`${hostCount} hosts x ${perHost} warm instances: routing p50 ${at(0.5)} µs, p99 ${at(0.99)} µs`)
for (const h of hosts) h.client.close()
