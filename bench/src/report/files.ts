// Writes a run's report files beside its JSON: the tables (.md) and the
// cold-start chart (.svg). Used by a run and by render.ts for a past one.
import { writeFile } from 'node:fs/promises'
import type { BenchResults } from '../results.ts'
import { renderMarkdown } from './markdown.ts'
import { renderColdChart } from './svg.ts'

/** Writes `base`.md and `base`.svg; returns the markdown. */
export async function writeReports(base: string, results: BenchResults): Promise<string> {
  const markdown = renderMarkdown(results)
  const title = `Cold start of addNumbers(3, 5), ${results.environment.cpuModel}, ${results.startedAt.slice(0, 10)}`
  await writeFile(`${base}.md`, markdown)
  await writeFile(`${base}.svg`, renderColdChart(results.cold, title))
  return markdown
}
