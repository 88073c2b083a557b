// Density: the RSS of one isolate host holding N warm instances of distinct
// functions. A bench-owned `osiris start` (capacity above the largest N, no
// idle expiry) gets one module per function deployed and called once, so each
// holds a specialized isolate; the RSS of the host and its isolate worker
// processes is read from /proc, by the host's pid and its children.
import { checkEight, moduleSource } from './cold/source.ts'
import { OsirisPlatform } from './e2e/platform.ts'
import { treeRssOf } from './processes.ts'

export interface DensityPoint {
  instances: number
  rssBytes: number
  /** The host's own report (process.memoryUsage.rss) through the SDK's hosts(). */
  reportedRssBytes: number
}

export interface Density {
  baselineRssBytes: number
  points: DensityPoint[]
}

const PARALLEL = 4

export async function measureDensity(counts: readonly number[], log: (line: string) => void): Promise<Density> {
  const max = Math.max(...counts)
  const osiris = await OsirisPlatform.start(['--pool', '8', '--capacity', String(max + 100), '--idle-ttl', '86400000'])
  try {
    await osiris.poolFull()
    const pid = await osiris.hostPid()
    const baselineRssBytes = (await treeRssOf(pid)) ?? 0
    const points: DensityPoint[] = []
    let made = 0
    for (const target of [...counts].sort((a, b) => a - b)) {
      const started = Date.now()
      while (made < target) {
        const batch = Array.from({ length: Math.min(PARALLEL, target - made) }, (_, k) => made + k)
        await Promise.all(batch.map((i) => warmOne(osiris, i)))
        made += batch.length
      }
      const host = await instancesAtLeast(osiris, target)
      const rssBytes = (await treeRssOf(pid)) ?? host.rssBytes
      points.push({ instances: host.instances, rssBytes, reportedRssBytes: host.rssBytes })
      log(
        `  ${target} warm instances: host + workers RSS ${(rssBytes / 2 ** 20).toFixed(0)} MiB (${Date.now() - started} ms)`,
      )
    }
    return { baselineRssBytes, points }
  } finally {
    await osiris.close()
  }
}

/** The host's status is pushed coalesced, so poll (with a deadline) until it shows `target` instances. */
async function instancesAtLeast(osiris: OsirisPlatform, target: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const [host] = await osiris.client.hosts()
    if (host && host.instances >= target) return host
    if (Date.now() > deadline) throw new Error(`the host holds ${host?.instances ?? 0} instances, expected ${target}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function warmOne(osiris: OsirisPlatform, i: number): Promise<void> {
  const name = `addNumbersD${i}`
  const source = moduleSource(`density ${i}`).replace('addNumbers', name)
  await osiris.client.deploy(source, { module: `dense${i}`, runtime: 'js' })
  checkEight(await osiris.client.callFunction(name, 3, 5), 'density')
}
