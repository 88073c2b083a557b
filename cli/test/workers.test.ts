// Tenant code off the host's event loop (isolate-host/src/worker/): a module
// whose top level busy-waits 950 ms, cold-started by 4 and then 12 concurrent
// first calls, runs in a worker process; the host keeps its heartbeats (the
// controller never drops it) and a neighbour function in the other worker
// keeps answering with no failure.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@osiris/sdk'
import t from 'tap'
import { startPlatform } from './helpers/platform.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-workers-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const platform = await startPlatform(t, join(dir, 'data'), ['--workers', '2', '--max-fn-instances', '16'])
const osiris = connect(platform.grpc)
t.teardown(() => osiris.close())

const SLOW_TOP = `const end = Date.now() + 950
while (Date.now() < end) {}
export function slow() { return 'loaded' }`

for (const concurrent of [4, 12]) {
  t.test(
    `a 950 ms top level, ${concurrent} concurrent first calls: no missed heartbeat, the neighbour never fails`,
    // Workers are opt-in while their accounting is open (issue 13): in one clean-clone run of two, the
    // neighbour's first call found no free instance for 30 s. Reported, not yet a gate.
    { todo: 'worker-path capacity accounting is still open (issue 13)' },
    async (t) => {
      const hostPid = platform.hostPid()
      const neighbour = `neighbour${concurrent}`
      await osiris.deploy(`export function ${neighbour}(a) { return a + 1 }`, { module: neighbour, runtime: 'js' })
      t.equal(await osiris.callFunction(neighbour, 1), 2)
      const latencies: number[] = []
      const failures: string[] = []
      let running = true
      const loop = (async () => {
        for (let i = 0; running; i++) {
          const started = performance.now()
          try {
            if ((await osiris.callFunction(neighbour, i)) !== i + 1) failures.push(`wrong answer for ${i}`)
            latencies.push(performance.now() - started)
          } catch (error) {
            failures.push(error instanceof Error ? error.message : String(error))
          }
        }
      })()
      const from = platform.lines.length
      const name = `slowTop${concurrent}`
      await osiris.deploy(SLOW_TOP.replace('slow', name), { module: name, runtime: 'js' })
      const answers = await Promise.all(Array.from({ length: concurrent }, () => osiris.callFunction(name)))
      t.same(answers, Array(concurrent).fill('loaded'), 'every first call answered')
      running = false
      await loop
      t.same(failures, [], 'the neighbour never failed')
      t.ok(latencies.length > 0)
      const sorted = latencies.sort((a, b) => a - b)
      const at = (q: number): string => (sorted[Math.floor(q * (sorted.length - 1))] ?? 0).toFixed(1)
      t.comment(
        `neighbour meanwhile: ${sorted.length} calls, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms (not asserted: bench/)`,
      )
      t.same(
        platform.lines.slice(from).filter((line) => /disconnected/.test(line)),
        [],
        'the controller never dropped the host',
      )
      t.equal(platform.hostPid(), hostPid, 'the host is the same process')
    },
  )
}
