// The peer comparison: the same addNumbers(3, 5) in workerd over HTTP on
// loopback — warm requests at concurrency 1, throughput at 16 and 64, and the
// cold start of new code through the dynamic worker loader. workerd freezes
// its clocks inside a request, so every figure is an HTTP round trip timed
// from this process (compare it with the warm round trip beside it).
import { checkEight } from '../cold/source.ts'
import { HttpTarget } from '../http-client.ts'
import { type Measurement, sample, summarize, type Throughput, throughput, timed } from '../measure.ts'
import type { Plan } from '../plan.ts'
import { WorkerdServer } from './workerd-server.ts'

export interface Peer {
  warm: Measurement
  loaderWarm: Measurement
  loaderCold: Measurement
  throughput: Throughput[]
}

export async function measureWorkerd(plan: Plan, log: (line: string) => void): Promise<Peer> {
  const server = await WorkerdServer.start()
  const http = new HttpTarget(`http://${server.address}`)
  try {
    checkEight(JSON.parse(await http.request('/add')), 'workerd')
    log(`  workerd warm: ${plan.warmCalls} requests at concurrency 1`)
    const warm = await sample(plan.warmCalls, plan.warmup, () => timed(() => http.request('/add')))
    log(`  workerd dynamic worker loader: ${plan.workerdCold} new workers`)
    const cold = await sample(plan.workerdCold, 5, async (i) =>
      timed(async () => checkEight(JSON.parse(await http.request(`/load?id=cold${i}`)), 'workerd loader')),
    )
    const loaderWarm = await sample(plan.warmCalls, plan.warmup, () => timed(() => http.request('/load?id=cold0')))
    const rates: Throughput[] = []
    for (const concurrency of plan.concurrency) {
      log(`  workerd throughput at concurrency ${concurrency}`)
      rates.push(
        await throughput(
          `workerd-c${concurrency}`,
          'workerd over HTTP',
          concurrency,
          plan.throughputMs,
          plan.throughputWarmupMs,
          () => http.request('/add'),
        ),
      )
    }
    return {
      warm: summarize('workerd-warm', 'workerd over HTTP, warm', warm),
      loaderWarm: summarize('workerd-loader-warm', 'workerd dynamic worker, already loaded (HTTP)', loaderWarm),
      loaderCold: summarize(
        'workerd-loader-cold',
        'workerd dynamic worker loader, new code (HTTP round trip)',
        cold,
        'includes one loopback HTTP round trip',
      ),
      throughput: rates,
    }
  } finally {
    http.close()
    await server.close()
  }
}
