// The measurement vocabulary every scenario shares: a Measurement is N raw
// samples (ms) with their percentiles; a Skipped one says why it was not
// taken. `sample()` runs warm-ups first, then times each sample.
export interface Measurement {
  id: string
  label: string
  unit: 'ms'
  n: number
  p50: number
  p95: number
  p99: number
  mean: number
  samples: number[]
  note?: string
}

export interface Skipped {
  id: string
  label: string
  skipped: string
}

export type Result = Measurement | Skipped

export interface Throughput {
  id: string
  label: string
  concurrency: number
  durationMs: number
  calls: number
  perSecond: number
}

export function isSkipped(result: Result): result is Skipped {
  return 'skipped' in result
}

/** Nearest-rank percentile of already sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil(p * sorted.length) - 1
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number
}

export function summarize(id: string, label: string, samples: number[], note?: string): Measurement {
  const sorted = [...samples].sort((a, b) => a - b)
  const mean = samples.reduce((sum, v) => sum + v, 0) / Math.max(1, samples.length)
  const m: Measurement = {
    id,
    label,
    unit: 'ms',
    n: samples.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    mean,
    samples: samples.map((v) => Math.round(v * 1000) / 1000),
  }
  if (note) m.note = note
  return m
}

export const now = (): number => performance.now()

/**
 * Runs `once` `warmup` times untimed, then `n` times; each run resolves its
 * own duration in ms (so a scenario can leave setup and teardown untimed).
 */
export async function sample(
  n: number,
  warmup: number,
  once: (i: number) => Promise<number> | number,
  progress?: (done: number) => void,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await once(-1 - i)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    out.push(await once(i))
    if (progress && (i + 1) % Math.max(1, Math.floor(n / 10)) === 0) progress(i + 1)
  }
  return out
}

/** Times `fn` alone, in ms. */
export async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const started = now()
  await fn()
  return now() - started
}

/**
 * Keeps `concurrency` calls in flight for `durationMs` (after `warmupMs`),
 * and counts the calls completed in that window.
 */
export async function throughput(
  id: string,
  label: string,
  concurrency: number,
  durationMs: number,
  warmupMs: number,
  call: () => Promise<unknown>,
): Promise<Throughput> {
  let counting = false
  let calls = 0
  let stop = false
  const worker = async (): Promise<void> => {
    while (!stop) {
      await call()
      if (counting) calls++
    }
  }
  const workers = Array.from({ length: concurrency }, worker)
  await new Promise((r) => setTimeout(r, warmupMs))
  counting = true
  const started = now()
  await new Promise((r) => setTimeout(r, durationMs))
  counting = false
  const elapsed = now() - started
  stop = true
  await Promise.all(workers)
  return { id, label, concurrency, durationMs: Math.round(elapsed), calls, perSecond: (calls * 1000) / elapsed }
}
