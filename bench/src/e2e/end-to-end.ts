// End to end through Osiris as separate processes (SDK in this process →
// controller → isolate host), beside the bare grpc-js echo pair in the same
// run: warm calls at concurrency 1, throughput at 16 and 64, the first call
// of freshly deployed functions, and warm calls through the HTTP gateway.

import { checkEight, moduleSource } from '../cold/source.ts'
import { HttpTarget } from '../http-client.ts'
import { type Measurement, sample, summarize, type Throughput, throughput, timed } from '../measure.ts'
import type { Plan } from '../plan.ts'
import { EchoPair } from './echo.ts'
import { OsirisPlatform } from './platform.ts'

export interface EndToEnd {
  warm: Measurement[]
  throughput: Throughput[]
  fresh: Measurement
  /** The host's own time (reported durationUs) within those first calls. */
  freshHost: Measurement
}

export async function measureEndToEnd(plan: Plan, log: (line: string) => void): Promise<EndToEnd> {
  const echo = await EchoPair.start()
  const relay = await EchoPair.relay()
  const osiris = await OsirisPlatform.start(['--pool', '8'])
  const gateway = new HttpTarget(`http://${osiris.http}`)
  try {
    await osiris.client.deploy(moduleSource('warm'), { module: 'math', runtime: 'js' })
    checkEight(await osiris.client.callFunction('addNumbers', 3, 5), 'osiris')
    checkEight(await echo.call(), 'echo')
    checkEight(await relay.call(), 'relay')

    const warm: Measurement[] = []
    const rounds: [string, string, () => Promise<unknown>][] = [
      ['echo-warm', 'bare grpc-js echo (2 processes)', () => echo.call()],
      ['relay-warm', 'bare grpc-js relay → echo (3 processes, 2 hops)', () => relay.call()],
      ['osiris-warm', 'Osiris SDK → controller → host, warm', () => osiris.client.callFunction('addNumbers', 3, 5)],
      ['osiris-http-warm', 'Osiris HTTP gateway → host, warm', () => gateway.request('/v1/call/addNumbers', '[3,5]')],
    ]
    for (const [id, label, call] of rounds) {
      log(`  ${label}: ${plan.warmCalls} calls at concurrency 1`)
      warm.push(summarize(id, label, await sample(plan.warmCalls, plan.warmup, () => timed(call))))
    }

    const rates: Throughput[] = []
    for (const concurrency of plan.concurrency) {
      for (const [id, label, call] of rounds.slice(0, 3)) {
        log(`  ${label}: throughput at concurrency ${concurrency}`)
        rates.push(
          await throughput(
            `${id}-c${concurrency}`,
            label,
            concurrency,
            plan.throughputMs,
            plan.throughputWarmupMs,
            call,
          ),
        )
      }
    }

    log(`  first call of ${plan.freshDeploys} freshly deployed functions`)
    const freshHost: number[] = []
    const fresh = await sample(plan.freshDeploys, 3, async (i) => {
      const name = `addNumbers${i < 0 ? `W${-i}` : i}`
      const source = moduleSource(`fresh ${i}`).replace('addNumbers', name)
      await osiris.client.deploy(source, { module: `fresh${i < 0 ? `W${-i}` : i}`, runtime: 'js' })
      await osiris.poolFull()
      let coldStart = false
      const elapsed = await timed(async () => {
        const result = await osiris.client.call(name, [3, 5])
        coldStart = result.coldStart
        checkEight(result.value, 'osiris fresh')
        if (i >= 0) freshHost.push(result.hostDurationUs / 1000)
      })
      if (!coldStart) throw new Error(`the first call of freshly deployed ${name} was not a cold start`)
      return elapsed
    })
    return {
      warm,
      throughput: rates,
      fresh: summarize('osiris-fresh', 'Osiris first call of a freshly deployed function (end to end)', fresh),
      freshHost: summarize('osiris-fresh-host', '… of which the host (specialize + call, its durationUs)', freshHost),
    }
  } finally {
    gateway.close()
    await osiris.close()
    await relay.close()
    await echo.close()
  }
}
