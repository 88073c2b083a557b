// DESIGN.md's performance budgets, each checked against this run's figures:
// measured, budget, and met / missed / not measured. Ratios are taken against
// baselines measured in the same run, never against another run's figures.
import { isSkipped, type Result } from './measure.ts'
import type { BenchResults, BudgetRow, Verdict } from './results.ts'

const ms = (v: number): string => `${v < 1 ? v.toFixed(3) : v.toFixed(2)} ms`
const verdict = (ok: boolean): Verdict => (ok ? 'met' : 'missed')

function find(list: readonly Result[], id: string): Result | undefined {
  return list.find((r) => r.id === id)
}

export function checkBudgets(r: Omit<BenchResults, 'budgets'>): BudgetRow[] {
  const rows: BudgetRow[] = []
  const missing = (what: string, budget: string, why: string): BudgetRow => ({
    what,
    measured: why,
    budget,
    verdict: 'not measured',
  })

  const pool = find(r.cold, 'ivm-pool')
  const poolWhat = 'host-side cold start from the warm pool (specialize + first call)'
  const poolBudget = 'p50 ≤ 0.5 ms, p99 ≤ 2 ms'
  if (pool && !isSkipped(pool)) {
    rows.push({
      what: poolWhat,
      measured: `p50 ${ms(pool.p50)}, p99 ${ms(pool.p99)}`,
      budget: poolBudget,
      verdict: verdict(pool.p50 <= 0.5 && pool.p99 <= 2),
    })
  } else rows.push(missing(poolWhat, poolBudget, pool && isSkipped(pool) ? pool.skipped : 'not run'))

  // A/B in one run: the same executor in this process, and in a worker process (the IPC hop included).
  const poolWorkers = find(r.cold, 'ivm-pool-workers')
  const measured = (m: Result | undefined) => (m && !isSkipped(m) ? m : undefined)
  const warmBefore = measured(find(r.peer.warm, 'ivm-pool-warm'))
  const warmAfter = measured(find(r.peer.warm, 'ivm-pool-workers-warm'))
  const abWhat = 'host-side warm call and pool cold start after worker processes'
  const coldBefore = measured(pool)
  const coldAfter = measured(poolWorkers)
  if (coldBefore && coldAfter && warmBefore && warmAfter) {
    const coldRatio = coldAfter.p50 / coldBefore.p50
    const warmRatio = warmAfter.p50 / warmBefore.p50
    rows.push({
      what: abWhat,
      measured: `cold ${ms(coldAfter.p50)} = ${coldRatio.toFixed(2)} × ${ms(coldBefore.p50)}; warm ${ms(warmAfter.p50)} = ${warmRatio.toFixed(2)} × ${ms(warmBefore.p50)}`,
      budget: '≤ 1.2 × before (A/B in one run)',
      verdict: verdict(coldRatio <= 1.2 && warmRatio <= 1.2),
    })
  } else rows.push(missing(abWhat, '≤ 1.2 × before (A/B in one run)', 'not run'))

  const fresh = find(r.cold, 'osiris-fresh')
  const freshWhat = 'end-to-end first call of a freshly deployed function'
  if (fresh && !isSkipped(fresh)) {
    rows.push({
      what: freshWhat,
      measured: `p50 ${ms(fresh.p50)}`,
      budget: 'p50 ≤ 2 ms',
      verdict: verdict(fresh.p50 <= 2),
    })
  } else rows.push(missing(freshWhat, 'p50 ≤ 2 ms', 'not run'))

  const echo = r.endToEnd.warm.find((m) => m.id === 'echo-warm')
  const warm = r.endToEnd.warm.find((m) => m.id === 'osiris-warm')
  const warmWhat = 'end-to-end warm call, p50'
  if (echo && warm) {
    const ratio = warm.p50 / echo.p50
    rows.push({
      what: warmWhat,
      measured: `${ms(warm.p50)} = ${ratio.toFixed(2)} × echo (${ms(echo.p50)})`,
      budget: `≤ 2 × echo = ${ms(2 * echo.p50)}`,
      verdict: verdict(ratio <= 2),
    })
  } else rows.push(missing(warmWhat, '≤ 2 × bare grpc-js echo', 'not run'))

  const rates = r.endToEnd.throughput
  const top = Math.max(0, ...rates.map((t) => t.concurrency))
  const echoRate = rates.find((t) => t.id === `echo-warm-c${top}`)
  const osirisRate = rates.find((t) => t.id === `osiris-warm-c${top}`)
  const rateWhat = top ? `end-to-end warm throughput (concurrency ${top})` : 'end-to-end warm throughput'
  if (echoRate && osirisRate) {
    const ratio = osirisRate.perSecond / echoRate.perSecond
    rows.push({
      what: rateWhat,
      measured: `${osirisRate.perSecond.toFixed(0)}/s = ${ratio.toFixed(2)} × echo (${echoRate.perSecond.toFixed(0)}/s)`,
      budget: '≥ 0.5 × echo',
      verdict: verdict(ratio >= 0.5),
    })
  } else rows.push(missing(rateWhat, '≥ 0.5 × bare grpc-js echo', 'not run'))

  const densityWhat = 'warm instances of distinct functions on one host'
  const densityBudget = '1,000 in ≤ 2 GiB RSS'
  if ('points' in r.density) {
    const point = r.density.points.find((p) => p.instances >= 1000)
    if (point) {
      const gib = point.rssBytes / 2 ** 30
      rows.push({
        what: densityWhat,
        measured: `${point.instances} in ${gib.toFixed(2)} GiB`,
        budget: densityBudget,
        verdict: verdict(gib <= 2),
      })
    } else {
      const last = r.density.points.at(-1)
      const why = last ? `only ${last.instances} made in this mode` : 'no point measured'
      rows.push(missing(densityWhat, densityBudget, why))
    }
  } else rows.push(missing(densityWhat, densityBudget, r.density.skipped))

  const container = r.containers.results.find((c) => c.id === 'container-warm')
  const containerWhat = 'Python function, first call from a warm generic container'
  if (container && !isSkipped(container)) {
    const dockerRun = r.containers.results.find((c) => c.id === 'docker-run')
    const against = dockerRun && !isSkipped(dockerRun) ? ` (\`docker run\`: ${ms(dockerRun.p50)})` : ''
    rows.push({
      what: containerWhat,
      measured: `p50 ${ms(container.p50)}${against}`,
      budget: 'p50 ≤ 50 ms',
      verdict: verdict(container.p50 <= 50),
    })
  } else
    rows.push(missing(containerWhat, 'p50 ≤ 50 ms', container && isSkipped(container) ? container.skipped : 'not run'))
  return rows
}
