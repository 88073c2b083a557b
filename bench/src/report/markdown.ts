// The run as markdown: cold starts, containers, warm calls, throughput,
// density and the budget table, each figure beside its same-run baseline.
import { isSkipped, type Measurement, type Result } from '../measure.ts'
import type { BenchResults } from '../results.ts'

const fmt = (v: number): string => (v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0))
const ratio = (v: number, base: number | undefined): string =>
  base ? `${v / base < 0.1 ? (v / base).toPrecision(2) : (v / base).toFixed(1)}×` : ''

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n')
}

function latencyRows(list: readonly Result[], base: number | undefined): string[][] {
  return list.map((r) =>
    isSkipped(r)
      ? [r.label, '–', 'skipped', '', '', r.skipped]
      : [r.label, String(r.n), fmt(r.p50), fmt(r.p95), fmt(r.p99), ratio(r.p50, base)],
  )
}

export function renderMarkdown(r: BenchResults): string {
  const e = r.environment
  const out: string[] = []
  out.push(`# Osiris bench, ${r.startedAt} (${r.mode} run)`)
  out.push(
    `${e.cpuModel}, ${e.cores} cores, ${e.memoryGiB} GiB; ${e.os}; Node ${e.node} (V8 ${e.v8}); ` +
      `isolated-vm ${e.isolatedVm}; workerd ${e.workerd}; commit ${e.commit}; load average at start ${e.loadAverage?.join(', ') ?? 'not recorded'}. ` +
      'Times in ms (nearest-rank percentiles); every ratio is against a baseline from this same run.',
  )

  const pool = r.cold.find((c) => c.id === 'ivm-pool')
  const poolP50 = pool && !isSkipped(pool) ? pool.p50 : undefined
  out.push('## Cold start of new code')
  out.push(table(['mechanism', 'n', 'p50', 'p95', 'p99', '× Osiris pool p50'], latencyRows(r.cold, poolP50)))

  out.push('## Containers')
  const engine = r.containers.engine
  out.push(engine.available ? `Engine: ${engine.version} on ${engine.socket}.` : `Skipped: ${engine.reason}.`)
  const dockerRun = r.containers.results.find((c) => c.id === 'docker-run')
  const dockerP50 = dockerRun && !isSkipped(dockerRun) ? dockerRun.p50 : undefined
  out.push(
    table(
      ['first call of a new Python function', 'n', 'p50', 'p95', 'p99', '× docker run p50'],
      latencyRows(r.containers.results, dockerP50),
    ),
  )

  const echo = r.endToEnd.warm.find((m) => m.id === 'echo-warm')
  out.push('## Warm calls (concurrency 1)')
  const warm: Measurement[] = [...r.endToEnd.warm, ...r.peer.warm.filter((m): m is Measurement => !isSkipped(m))]
  out.push(table(['path', 'n', 'p50', 'p95', 'p99', '× echo p50'], latencyRows(warm, echo?.p50)))

  out.push('## Throughput')
  const rates = [...r.endToEnd.throughput, ...r.peer.throughput]
  const echoRate = (c: number): number | undefined => rates.find((t) => t.id === `echo-warm-c${c}`)?.perSecond
  out.push(
    table(
      ['path', 'concurrency', 'calls', 'calls/s', '× echo'],
      rates.map((t) => {
        const base = echoRate(t.concurrency)
        return [
          t.label,
          String(t.concurrency),
          String(t.calls),
          t.perSecond.toFixed(0),
          base ? `${(t.perSecond / base).toFixed(2)}×` : '',
        ]
      }),
    ),
  )

  out.push('## Density')
  if ('points' in r.density) {
    const base = r.density.baselineRssBytes
    out.push(`Host RSS with a full warm pool and no instances: ${(base / 2 ** 20).toFixed(0)} MiB.`)
    out.push(
      table(
        ['warm instances', 'host RSS (MiB)', 'host-reported RSS (MiB)', 'per instance above baseline (KiB)'],
        r.density.points.map((p) => [
          String(p.instances),
          (p.rssBytes / 2 ** 20).toFixed(0),
          (p.reportedRssBytes / 2 ** 20).toFixed(0),
          ((p.rssBytes - base) / p.instances / 1024).toFixed(0),
        ]),
      ),
    )
  } else out.push(`Skipped: ${r.density.skipped}.`)

  out.push('## Budgets')
  out.push(
    table(
      ['what', 'measured', 'budget', 'verdict'],
      r.budgets.map((b) => [b.what, b.measured, b.budget, b.verdict]),
    ),
  )
  if (r.errors.length > 0) {
    out.push('## Errors')
    out.push(r.errors.map((e) => `- ${e}`).join('\n'))
  }
  return `${out.join('\n\n')}\n`
}
