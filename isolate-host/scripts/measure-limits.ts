// Measures how fast the host stops hostile calls and what a neighbour sees
// meanwhile: for each attack (a memory bomb, an infinite loop, a memory bomb
// stuck in a non-interruptible builtin), the time from call to error, median
// over N rounds, and the p50/p99 latency of a neighbour function called in a
// loop during the attacks, against the same neighbour with no attack, and
// the host's peak RSS meanwhile.
// Run from the repository root:
//   node --no-node-snapshot --conditions=osiris-source isolate-host/scripts/measure-limits.ts [N]
import { OsirisError } from '@osiris/proto'
import { CodeCache, hashCode } from '../src/code-cache.ts'
import { IsolateExecutor } from '../src/isolate-executor.ts'

const rounds = Number(process.argv[2] ?? 15)
const cache = new CodeCache(async (hash) => {
  throw new OsirisError('NOT_FOUND', `code ${hash} should already be cached by validate()`)
}, 64 << 20)
const executor = new IsolateExecutor({
  poolTarget: 4,
  memoryLimitMb: 64,
  maxInstances: 100,
  loadTimeoutMs: 1000,
  codeCache: cache,
  onLog: () => {},
  onChange: () => {},
})

/** Source and call timeout: memory bombs get 10 s so that the memory limit, not the clock, stops them. */
const ATTACKS: Record<string, [string, number]> = {
  'memory bomb (push objects)': ['export function attack() { const a = []; for (;;) a.push({ n: a.length }) }', 10_000],
  'memory bomb (huge strings)': [
    "export function attack() { const k = []; for (;;) k.push('x'.repeat(1 << 24) + k.length) }",
    10_000,
  ],
  'infinite loop (while true), 1 s timeout': ['export function attack() { while (true) {} }', 1000],
  'memory bomb inside Array.fill': [
    'export function attack() { const k = []; for (let n = 1 << 16; ; n *= 2) k.push(Array(n).fill(n)) }',
    10_000,
  ],
}
const NEIGHBOUR = 'export function echo(x) { return x }'

async function deploy(source: string, name: string): Promise<string> {
  const { code } = await executor.validate('js', source, `${name}.js`)
  return hashCode(code)
}

let version = 0
function call(codeHash: string, functionName: string, args: string[], timeoutMs: number) {
  return executor.invoke({
    callId: 'm',
    functionName,
    module: functionName,
    version: ++version,
    codeHash,
    args,
    timeoutMs,
  })
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN
}
const ms = (x: number): string => `${x.toFixed(2)} ms`

const neighbourHash = await deploy(NEIGHBOUR, 'neighbour')
const neighbourVersion = ++version
async function neighbourLoop(latencies: number[], stop: () => boolean): Promise<number> {
  let failures = 0
  while (!stop()) {
    const t0 = performance.now()
    try {
      await executor.invoke({
        callId: 'n',
        functionName: 'echo',
        module: 'neighbour',
        version: neighbourVersion,
        codeHash: neighbourHash,
        args: ['1'],
        timeoutMs: 5000,
      })
      latencies.push(performance.now() - t0)
    } catch {
      failures++
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  return failures
}

await executor.pool.filled()
const baseline: number[] = []
const until = performance.now() + 1000
await neighbourLoop(baseline, () => performance.now() > until)
console.log(`neighbour alone: ${baseline.length} calls, p50 ${ms(pct(baseline, 50))}, p99 ${ms(pct(baseline, 99))}`)

for (const [label, [source, timeoutMs]] of Object.entries(ATTACKS)) {
  const hash = await deploy(source, 'attacker')
  const stopped: number[] = []
  const codes = new Set<string>()
  const latencies: number[] = []
  let done = false
  let maxRss = process.memoryUsage.rss()
  const rss = setInterval(() => {
    maxRss = Math.max(maxRss, process.memoryUsage.rss())
  }, 20)
  const neighbour = neighbourLoop(latencies, () => done)
  for (let i = 0; i < rounds; i++) {
    await executor.pool.filled()
    const t0 = performance.now()
    const outcome = await call(hash, 'attack', [], timeoutMs).then(
      () => 'no error',
      (error: OsirisError) => error.code,
    )
    stopped.push(performance.now() - t0)
    codes.add(outcome)
  }
  done = true
  clearInterval(rss)
  const failures = await neighbour
  console.log(
    `${label}: stopped in median ${ms(pct(stopped, 50))} (max ${ms(Math.max(...stopped))}, ${[...codes].join('/')}, ` +
      `timeout ${timeoutMs} ms); neighbour meanwhile ${latencies.length} calls, p50 ${ms(pct(latencies, 50))}, ` +
      `p99 ${ms(pct(latencies, 99))}, ${failures} failed; host RSS peak ${Math.round(maxRss / 2 ** 20)} MiB`,
  )
}
await executor.close(0)
