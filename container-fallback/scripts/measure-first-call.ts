// First call of a new Python function served from the warm container pool
// (specialize a generic container + call), against `docker run` of the same
// image running the same function. One run, medians; a measurement, not a test.
//   node --no-node-snapshot --conditions=osiris-source container-fallback/scripts/measure-first-call.ts [N]
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { ContainerExecutor, runtimeSpec } from '@osiris/container-fallback'

const N = Number(process.argv[2] ?? 15)
const image = runtimeSpec('python')?.image ?? ''
const codes = new Map<string, string>()
const hash = (code: string): string => createHash('sha256').update(code).digest('hex')
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

const executor = new ContainerExecutor({
  runtimes: ['python'],
  poolTarget: 2,
  code: async (h) => codes.get(h) ?? '',
  keepCode: (code) => void codes.set(hash(code), code),
})
await executor.ready()
const poolFull = async (): Promise<void> => {
  const deadline = Date.now() + 60_000
  while (executor.status().poolReady < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
}

const pool: number[] = []
const hostSide: number[] = []
for (let i = 1; i <= N; i++) {
  const source = `def add_numbers_${i}(a, b):\n    return a + b + ${i} - ${i}\n`
  await executor.validate('python', source, `m${i}.py`)
  await poolFull()
  const started = performance.now()
  const result = await executor.invoke({
    callId: `c${i}`,
    functionName: `add_numbers_${i}`,
    module: `m${i}`,
    version: i,
    codeHash: hash(source),
    args: ['3', '5'],
    timeoutMs: 10_000,
    runtime: 'python',
  })
  pool.push(performance.now() - started)
  hostSide.push(result.durationUs / 1000)
  if (result.result !== '8' || !result.coldStart) throw new Error(`unexpected ${JSON.stringify(result)}`)
}
await executor.close(0)

const run = promisify(execFile)
const dockerRun: number[] = []
for (let i = 1; i <= N; i++) {
  const started = performance.now()
  const { stdout } = await run('docker', [
    'run',
    '--rm',
    '--network',
    'none',
    image,
    'python3',
    '-c',
    'def add_numbers(a, b):\n    return a + b\nprint(add_numbers(3, 5))',
  ])
  dockerRun.push(performance.now() - started)
  if (stdout.trim() !== '8') throw new Error(`docker run printed ${stdout}`)
}

const ms = (x: number): string => `${x.toFixed(1)} ms`
console.log(`python first call, ${N} new functions each (medians, one run):`)
console.log(`  from the warm container pool: ${ms(median(pool))} (host-side ${ms(median(hostSide))})`)
console.log(`  docker run --rm --network none ${image}: ${ms(median(dockerRun))}`)
