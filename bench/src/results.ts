// The shape of one run's results file (bench/results/<timestamp>.json): the
// environment, every measurement with its raw samples, and the budget table.
import type { Containers } from './containers.ts'
import type { Density } from './density.ts'
import type { Environment } from './environment.ts'
import type { Measurement, Result, Throughput } from './measure.ts'
import type { Mode } from './plan.ts'

export type Verdict = 'met' | 'missed' | 'not measured'

export interface BudgetRow {
  what: string
  measured: string
  budget: string
  verdict: Verdict
}

export interface BenchResults {
  schema: 1
  mode: Mode
  startedAt: string
  finishedAt: string
  environment: Environment
  /** Cold starts of new code, in-process mechanisms and through the whole stack. */
  cold: Result[]
  containers: Containers
  peer: { warm: Result[]; throughput: Throughput[] }
  endToEnd: { warm: Measurement[]; throughput: Throughput[] }
  density: Density | { skipped: string }
  budgets: BudgetRow[]
  errors: string[]
}
