// Measures host-side cold start from the warm pool (specialize + first call)
// and warm calls, in-process on one IsolateExecutor, over many distinct
// functions. Prints medians and p99 in ms. Run from the repository root:
//   node --no-node-snapshot --conditions=osiris-source isolate-host/scripts/measure-cold-start.ts [N]
// (The full comparison suite is bench/; this is the quick host-only figure.)
import { CodeCache, hashCode } from '../src/code-cache.ts'
import { IsolateExecutor } from '../src/isolate-executor.ts'

const samples = Number(process.argv[2] ?? 300)
const cache = new CodeCache(async (hash) => {
  throw new Error(`code ${hash} should already be cached by validate()`)
}, 64 << 20)
const executor = new IsolateExecutor({
  poolTarget: 8,
  memoryLimitMb: 128,
  maxInstances: samples + 10,
  loadTimeoutMs: 1000,
  codeCache: cache,
  onLog: () => {},
  onChange: () => {},
})

const cold: number[] = []
const warm: number[] = []
for (let i = 0; i < samples; i++) {
  const name = `addNumbers${i}`
  const { code } = await executor.validate('js', `export function ${name}(a, b) { return a + b + ${i} }`, `m${i}.js`)
  await executor.pool.filled()
  const params = {
    callId: `c${i}`,
    functionName: name,
    module: `m${i}`,
    version: i + 1,
    codeHash: hashCode(code),
    args: ['3', '5'],
    timeoutMs: 1000,
  }
  const first = await executor.invoke(params)
  if (!first.coldStart) throw new Error('expected a cold start')
  cold.push(first.durationUs / 1000)
  const again = await executor.invoke(params)
  warm.push(again.durationUs / 1000)
}
await executor.close(0)

const pct = (values: number[], p: number): string => {
  const sorted = [...values].sort((a, b) => a - b)
  return (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN).toFixed(3)
}
console.log(`samples ${samples}`)
console.log(`cold start (specialize + first call) ms: p50 ${pct(cold, 0.5)}  p99 ${pct(cold, 0.99)}`)
console.log(`warm call ms: p50 ${pct(warm, 0.5)}  p99 ${pct(warm, 0.99)}`)
