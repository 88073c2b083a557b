// Where a first call's time goes: alternates, in one run, the first call of a
// freshly deployed function with a call of an already warm function, each
// right after the same prelude (a deploy, then waiting for the host's pool to
// be full), so the two differ only in the cold start. Prints medians of the
// round trip, the controller's total (its totalUs) and the host's own time
// (durationUs), and a warm call at concurrency 1 with no prelude.
//   node --no-node-snapshot --conditions=osiris-source bench/scripts/first-call.ts [N]
import { moduleSource } from '../src/cold/source.ts'
import { OsirisPlatform } from '../src/e2e/platform.ts'
import { summarize, timed } from '../src/measure.ts'
import { stopAll } from '../src/processes.ts'

const n = Number(process.argv[2] ?? 60)
const osiris = await OsirisPlatform.start(['--pool', '8', ...process.argv.slice(3)])
const rows = new Map<string, number[]>()
const add = (row: string, ms: number): void => void rows.set(row, [...(rows.get(row) ?? []), ms])
try {
  await osiris.client.deploy(moduleSource('warm'), { module: 'math', runtime: 'js' })
  for (let i = -4; i < 2 * n; i++) {
    const name = `addNumbers${i + 10}`
    const source = moduleSource(`fresh ${i}`).replace('addNumbers', name)
    await osiris.client.deploy(source, { module: `fresh${i + 10}`, runtime: 'js' })
    await osiris.poolFull()
    const fresh = i % 2 === 0
    let response: Awaited<ReturnType<typeof osiris.client.call>> | undefined
    const ms = await timed(async () => {
      response = await osiris.client.call(fresh ? name : 'addNumbers', [3, 5])
    })
    if (i < 0 || !response) continue
    if (fresh !== response.coldStart) throw new Error(`call ${i}: coldStart ${response.coldStart}, expected ${fresh}`)
    const kind = fresh ? 'first call of a new function' : 'warm function, same prelude'
    add(`${kind}: round trip`, ms)
    add(`${kind}: controller total`, response.totalUs / 1000)
    add(`${kind}: host`, response.hostDurationUs / 1000)
  }
  for (let i = 0; i < 20 * n + 200; i++) {
    const ms = await timed(() => osiris.client.call('addNumbers', [3, 5]))
    if (i >= 200) add('warm function, back to back: round trip', ms)
  }
  for (const [row, samples] of rows) {
    const m = summarize(row, row, samples)
    console.log(`${row.padEnd(48)} p50 ${m.p50.toFixed(3)}  p95 ${m.p95.toFixed(3)} ms (n ${m.n})`)
  }
} finally {
  await osiris.close()
  await stopAll()
}
