// Re-renders a results file's markdown and SVG from its JSON (same data, so
// a fixed renderer can redraw a past run without measuring again):
//   node bench/src/render.ts bench/results/<timestamp>.json
import { readFile, writeFile } from 'node:fs/promises'
import { renderMarkdown } from './report/markdown.ts'
import { renderColdChart } from './report/svg.ts'
import type { BenchResults } from './results.ts'

for (const file of process.argv.slice(2)) {
  const results = JSON.parse(await readFile(file, 'utf8')) as BenchResults
  const base = file.replace(/\.json$/, '')
  const title = `Cold start of addNumbers(3, 5), ${results.environment.cpuModel}, ${results.startedAt.slice(0, 10)}`
  await writeFile(`${base}.md`, renderMarkdown(results))
  await writeFile(`${base}.svg`, renderColdChart(results.cold, title))
  console.log(`rendered ${base}.md and .svg`)
}
