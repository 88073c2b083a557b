// `npm run bench [-- --quick] [-- --out DIR]`: runs every section in order,
// shows progress, and writes <timestamp>.json (raw samples + environment),
// .md (the tables) and .svg (the cold-start chart) to bench/results/ (or
// DIR). A section that fails is recorded and the run goes on; the run ends
// with the budget table and exits 0 whether budgets are met or not.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { checkBudgets } from './budgets.ts'
import { measureIvmFresh } from './cold/ivm-fresh.ts'
import { measureIvmPool } from './cold/ivm-pool.ts'
import { measureNodeVm } from './cold/node-vm.ts'
import { measureSpawn } from './cold/spawn.ts'
import { measureWorker } from './cold/worker.ts'
import { measureContainers } from './containers.ts'
import { type Density, measureDensity } from './density.ts'
import { type EndToEnd, measureEndToEnd } from './e2e/end-to-end.ts'
import { environment } from './environment.ts'
import { isSkipped, type Measurement, type Result } from './measure.ts'
import { measureWorkerd, type Peer } from './peer/workerd.ts'
import { planFor } from './plan.ts'
import { stopAll } from './processes.ts'
import { writeReports } from './report/files.ts'
import type { BenchResults } from './results.ts'

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, out: { type: 'string' }, only: { type: 'string' } },
})
/** `--only cold,containers,peer,e2e,density` runs just those sections (for profiling one part). */
const only = values.only ? new Set(values.only.split(',')) : undefined
const wanted = (name: string): boolean => !only || only.has(name)
const plan = planFor(values.quick ? 'quick' : 'full')
const outDir = values.out ?? new URL('../results/', import.meta.url).pathname
const startedAt = new Date()
const errors: string[] = []
const log = (line: string): void => console.log(line)

/** Runs one section; a failure is recorded (and printed) instead of ending the run. */
async function section<T>(title: string, run: () => Promise<T>, name = ''): Promise<T | undefined> {
  if (name && !wanted(name)) return undefined
  log(`▸ ${title}`)
  const started = performance.now()
  try {
    const value = await run()
    log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    return value
  } catch (error) {
    const message = `${title}: ${(error as Error).stack ?? String(error)}`
    errors.push(message)
    log(`  FAILED: ${message}`)
    return undefined
  }
}

const skippedAfterError = (id: string, label: string): Result => ({
  id,
  label,
  skipped: 'failed in this run (see errors)',
})

async function coldInProcess(): Promise<{ results: Result[]; warm: Measurement[] }> {
  const results: Result[] = []
  const warm: Measurement[] = []
  const steps: [string, string, () => Promise<Measurement>][] = [
    [
      'ivm-pool',
      'isolated-vm warm pool (Osiris IsolateExecutor)',
      async () => {
        const pool = await measureIvmPool(plan.poolCold, plan.warmup / 10)
        warm.push(pool.warm)
        return pool.cold
      },
    ],
    [
      'ivm-pool-workers',
      'isolated-vm warm pool through a worker process (Osiris WorkerExecutor)',
      async () => {
        const pool = await measureIvmPool(plan.poolCold, plan.warmup / 10, 'workers')
        warm.push(pool.warm)
        return pool.cold
      },
    ],
    ['node-vm', 'node:vm new context', () => measureNodeVm(plan.nodeVm, 10)],
    ['ivm-fresh', 'isolated-vm new isolate + context', () => measureIvmFresh(plan.ivmFresh, 5)],
    ['worker', 'worker_threads new Worker', () => measureWorker(plan.worker, 2)],
    ['spawn', 'child_process spawn of node', () => measureSpawn(plan.spawn, 2)],
  ]
  for (const [id, label, run] of steps) {
    const m = await section(`cold start: ${label}`, run, 'cold')
    results.push(m ?? skippedAfterError(id, label))
  }
  return { results, warm }
}

log(`Osiris bench (${plan.mode} run), writing to ${outDir}`)
const env = environment()
log(`  ${env.cpuModel}, ${env.cores} cores; Node ${env.node}; isolated-vm ${env.isolatedVm}; workerd ${env.workerd}`)
try {
  const inProcess = await coldInProcess()
  const containers = (await section(
    'containers: Python first calls',
    () => measureContainers(plan.containerCold, 1, log),
    'containers',
  )) ?? {
    engine: { available: false as const, reason: 'the section failed or was not run' },
    results: [],
  }
  for (const c of containers.results) {
    log(`  ${c.label}: ${isSkipped(c) ? `skipped (${c.skipped})` : `p50 ${c.p50.toFixed(1)} ms`}`)
  }
  const peer: Peer | undefined = await section(
    'peer: workerd over loopback HTTP',
    () => measureWorkerd(plan, log),
    'peer',
  )
  const e2e: EndToEnd | undefined = await section(
    'end to end: Osiris and the bare grpc-js echo',
    () => measureEndToEnd(plan, log),
    'e2e',
  )
  const density: Density | undefined = await section(
    `density: ${plan.density.join(', ')} warm instances`,
    () => measureDensity(plan.density, log),
    'density',
  )

  const byId = new Map(inProcess.results.map((r) => [r.id, r]))
  const pick = (id: string): Result[] => (byId.has(id) ? [byId.get(id) as Result] : [])
  const cold: Result[] = [
    ...pick('ivm-pool'),
    ...pick('ivm-pool-workers'),
    e2e?.fresh ?? skippedAfterError('osiris-fresh', 'Osiris first call of a freshly deployed function (end to end)'),
    ...(e2e ? [e2e.freshHost] : []),
    peer?.loaderCold ??
      skippedAfterError('workerd-loader-cold', 'workerd dynamic worker loader, new code (HTTP round trip)'),
    ...pick('node-vm'),
    ...pick('ivm-fresh'),
    ...pick('worker'),
    ...pick('spawn'),
    ...containers.results,
  ]
  const partial: Omit<BenchResults, 'budgets'> = {
    schema: 1,
    mode: plan.mode,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    environment: env,
    cold,
    containers,
    peer: {
      warm: peer ? [peer.warm, peer.loaderWarm, ...inProcess.warm] : inProcess.warm,
      throughput: peer?.throughput ?? [],
    },
    endToEnd: { warm: e2e?.warm ?? [], throughput: e2e?.throughput ?? [] },
    density: density ?? { skipped: 'failed in this run (see errors)' },
    errors,
  }
  const results: BenchResults = { ...partial, budgets: checkBudgets(partial) }
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-')
  const base = join(outDir, `${stamp}${plan.mode === 'quick' ? '-quick' : ''}`)
  await mkdir(outDir, { recursive: true })
  await writeFile(`${base}.json`, `${JSON.stringify(results, null, 1)}\n`)
  const markdown = await writeReports(base, results)
  log(`\n${markdown}`)
  log(`wrote ${base}.json, .md and .svg`)
} finally {
  await stopAll()
}
process.exit(0)
