// Re-renders a results file's markdown and SVG from its JSON (same data, so
// a fixed renderer can redraw a past run without measuring again):
//   node bench/src/render.ts bench/results/<timestamp>.json
import { readFile } from 'node:fs/promises'
import { writeReports } from './report/files.ts'
import type { BenchResults } from './results.ts'

for (const file of process.argv.slice(2)) {
  const results = JSON.parse(await readFile(file, 'utf8')) as BenchResults
  const base = file.replace(/\.json$/, '')
  await writeReports(base, results)
  console.log(`rendered ${base}.md and .svg`)
}
