// How many samples each scenario takes: the full run (a few minutes) and the
// quick run (seconds, also the test suite's smoke test). Counts are chosen so
// the full run's p99 rests on at least ~100 samples where a sample is cheap.
export type Mode = 'full' | 'quick'

export interface Plan {
  mode: Mode
  /** Cold starts of isolated-vm from the Osiris warm pool (distinct functions). */
  poolCold: number
  ivmFresh: number
  nodeVm: number
  worker: number
  spawn: number
  /** Warm calls at concurrency 1 (Osiris, echo, workerd each). */
  warmCalls: number
  warmup: number
  /** Throughput window per concurrency level, ms. */
  throughputMs: number
  throughputWarmupMs: number
  concurrency: readonly number[]
  /** First calls of freshly deployed functions, end to end. */
  freshDeploys: number
  /** workerd dynamic-loader cold starts (distinct worker names). */
  workerdCold: number
  /** Python first calls per container mechanism (`docker run`, the warm generic container). */
  containerCold: number
  /** Warm instance counts for the density measurement. */
  density: readonly number[]
}

const FULL: Plan = {
  mode: 'full',
  poolCold: 300,
  ivmFresh: 200,
  nodeVm: 300,
  worker: 60,
  spawn: 40,
  warmCalls: 3000,
  warmup: 200,
  throughputMs: 5000,
  throughputWarmupMs: 500,
  concurrency: [16, 64],
  freshDeploys: 150,
  workerdCold: 200,
  containerCold: 30,
  density: [100, 500, 1000],
}

const QUICK: Plan = {
  mode: 'quick',
  poolCold: 20,
  ivmFresh: 10,
  nodeVm: 20,
  worker: 4,
  spawn: 3,
  warmCalls: 100,
  warmup: 20,
  throughputMs: 300,
  throughputWarmupMs: 100,
  concurrency: [16, 64],
  freshDeploys: 10,
  workerdCold: 10,
  containerCold: 3,
  density: [20, 50],
}

export function planFor(mode: Mode): Plan {
  return mode === 'quick' ? QUICK : FULL
}
