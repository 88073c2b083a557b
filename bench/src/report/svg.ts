// The cold-start chart as a standalone SVG (no charting dependency): one row
// per mechanism, a bar to its p50 and a whisker from p50 to p99, on a log
// scale in ms; skipped mechanisms are listed with their reason.
import { isSkipped, type Measurement, type Result } from '../measure.ts'

const ROW = 30
const LABEL = 430
const PLOT = 470
const TOP = 56
const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const fmt = (v: number): string => (v < 1 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0))

export function renderColdChart(results: readonly Result[], title: string): string {
  const measured = results.filter((r): r is Measurement => !isSkipped(r))
  const values = measured.flatMap((m) => [m.p50, m.p99]).filter((v) => v > 0)
  const lo = Math.floor(Math.log10(Math.min(...values, 1)))
  const hi = Math.ceil(Math.log10(Math.max(...values, 1)))
  const x = (v: number): number => LABEL + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * PLOT
  const height = TOP + results.length * ROW + 48
  const width = LABEL + PLOT + 30
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${xmlEscape(title)}</text>`,
    `<text x="12" y="40" fill="#555">bar: p50, whisker: p50 to p99; log scale, ms (fewer is better)</text>`,
  ]
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d).toFixed(1)
    const label = d < 0 ? (10 ** d).toFixed(-d) : String(10 ** d)
    parts.push(`<line x1="${gx}" y1="${TOP - 4}" x2="${gx}" y2="${TOP + results.length * ROW}" stroke="#ddd"/>`)
    parts.push(
      `<text x="${gx}" y="${TOP + results.length * ROW + 16}" text-anchor="middle" fill="#555">${label} ms</text>`,
    )
  }
  results.forEach((r, i) => {
    const y = TOP + i * ROW
    parts.push(`<text x="${LABEL - 8}" y="${y + 19}" text-anchor="end">${xmlEscape(r.label.replace(/`/g, ''))}</text>`)
    if (isSkipped(r)) {
      const why = r.skipped.length > 60 ? `${r.skipped.slice(0, 59)}…` : r.skipped
      parts.push(
        `<text x="${LABEL + 4}" y="${y + 19}" fill="#888" font-style="italic">skipped: ${xmlEscape(why)}</text>`,
      )
      return
    }
    const osiris = r.id.startsWith('ivm-pool') || r.id.startsWith('osiris-') || r.id === 'container-warm'
    const x50 = x(r.p50)
    const x99 = x(r.p99)
    parts.push(
      `<rect x="${LABEL}" y="${y + 6}" width="${(x50 - LABEL).toFixed(1)}" height="${ROW - 12}" fill="${osiris ? '#2a7ae2' : '#9aa5b1'}"/>`,
      `<line x1="${x50.toFixed(1)}" y1="${y + ROW / 2}" x2="${x99.toFixed(1)}" y2="${y + ROW / 2}" stroke="#333"/>`,
      `<line x1="${x99.toFixed(1)}" y1="${y + 9}" x2="${x99.toFixed(1)}" y2="${y + ROW - 9}" stroke="#333"/>`,
      `<text x="${(Math.max(x99, x50) + 6).toFixed(1)}" y="${y + 19}" fill="#222">${fmt(r.p50)} / ${fmt(r.p99)}</text>`,
    )
  })
  parts.push(`<text x="12" y="${height - 10}" fill="#555">p50 / p99 in ms; blue: Osiris</text>`)
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
