// Smoke test of the bench suite: `--quick` runs every section against real
// child processes and writes the JSON (raw samples + environment), the
// markdown tables and the SVG chart. No timing is asserted: figures on a
// shared machine are measurements, not pass/fail.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { BenchResults } from '../src/results.ts'

const MAIN = new URL('../src/main.ts', import.meta.url).pathname
const out = mkdtempSync(join(tmpdir(), 'osiris-bench-test-'))
t.teardown(() => rmSync(out, { recursive: true, force: true }))

// tap injects its loader into children's NODE_OPTIONS; the bench runs as a user would run it.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^_?TAP/.test(key)))
const run = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
  const child = spawn(
    'env',
    [
      '-u',
      'NODE_OPTIONS',
      process.execPath,
      '--no-node-snapshot',
      '--conditions=osiris-source',
      MAIN,
      '--quick',
      '--out',
      out,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env },
  )
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.on('error', reject)
  child.on('close', (code) => resolve({ code, stdout }))
})

t.equal(run.code, 0, 'the bench exits 0')
t.match(run.stdout, /▸ cold start: isolated-vm warm pool/, 'progress is shown')

const files = readdirSync(out)
const base = files.find((f) => f.endsWith('-quick.json'))?.replace(/\.json$/, '')
t.ok(base, `a results file was written (${files.join(', ')})`)

t.test('the JSON holds raw samples, the environment and the budgets', async (t) => {
  const results = JSON.parse(readFileSync(join(out, `${base}.json`), 'utf8')) as BenchResults
  t.equal(results.mode, 'quick')
  t.same(results.errors, [], 'no section failed')
  t.match(results.environment, { cores: Number, node: /^v24\./, isolatedVm: /^\d/, workerd: /^\d/, cpuModel: String })
  const ids = results.cold.map((r) => r.id)
  t.same(ids.slice(0, 9), [
    'ivm-pool',
    'ivm-pool-workers',
    'osiris-fresh',
    'osiris-fresh-host',
    'workerd-loader-cold',
    'node-vm',
    'ivm-fresh',
    'worker',
    'spawn',
  ])
  for (const r of results.cold.slice(0, 9)) {
    t.ok('samples' in r && r.samples.length > 0 && r.samples.every((v) => v > 0), `${r.id} has raw samples`)
  }
  t.same(
    results.containers.results.map((r) => r.id),
    ['docker-run', 'container-warm'],
  )
  for (const r of results.containers.results) {
    // Measured where an engine and the python image are present, else skipped with the reason.
    if ('skipped' in r) t.ok(r.skipped.length > 0, `${r.id} says why it is skipped: ${r.skipped}`)
    else t.ok(r.samples.length > 0 && r.samples.every((v) => v > 0), `${r.id} has raw samples`)
  }
  t.same(
    results.cold.slice(9).map((r) => r.id),
    ['docker-run', 'container-warm'],
    'the container rows are in the cold-start table (and chart)',
  )
  const budget = results.budgets.find((b) => b.what.startsWith('Python function'))
  const warm = results.containers.results.find((r) => r.id === 'container-warm')
  t.equal(
    budget?.verdict === 'not measured',
    !!warm && 'skipped' in warm,
    'the container budget is judged when measured',
  )
  t.same(
    results.endToEnd.warm.map((m) => m.id),
    ['echo-warm', 'relay-warm', 'osiris-warm', 'osiris-http-warm'],
  )
  t.same(
    results.endToEnd.throughput.map((m) => m.id),
    ['echo-warm-c16', 'relay-warm-c16', 'osiris-warm-c16', 'echo-warm-c64', 'relay-warm-c64', 'osiris-warm-c64'],
  )
  t.ok(results.peer.warm.some((m) => m.id === 'workerd-warm'))
  t.ok(
    results.peer.warm.some((m) => m.id === 'ivm-pool-warm') &&
      results.peer.warm.some((m) => m.id === 'ivm-pool-workers-warm'),
  )
  t.ok('points' in results.density && results.density.points.length === 2, 'two density points')
  // DESIGN.md's first six budgets, and the worker processes' A/B (host side, in one run).
  t.equal(results.budgets.length, 7, 'one row per budget in DESIGN.md that bench measures')
})

t.test('the markdown has every section, and the SVG charts the cold starts', async (t) => {
  const md = readFileSync(join(out, `${base}.md`), 'utf8')
  for (const heading of ['Cold start of new code', 'Containers', 'Warm calls', 'Throughput', 'Density', 'Budgets']) {
    t.match(md, new RegExp(`^## ${heading}`, 'm'), heading)
  }
  t.match(run.stdout, /^## Budgets/m, 'the tables are printed too')
  const svg = readFileSync(join(out, `${base}.svg`), 'utf8')
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.match(svg, /isolated-vm from the Osiris warm pool/)
  t.match(svg, /Python: docker run of the runtime image/)
  t.match(svg, /Python: Osiris warm generic container/)
  t.match(svg, /<\/svg>\n$/)
})
