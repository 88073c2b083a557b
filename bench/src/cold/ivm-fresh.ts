// Cold start without a pool: a new isolated-vm isolate and context for each
// call, then compile and run addNumbers(3, 5). Disposal is left untimed.
import ivm from 'isolated-vm'
import { type Measurement, now, sample, summarize } from '../measure.ts'
import { checkEight, scriptSource } from './source.ts'

export async function measureIvmFresh(n: number, warmup: number): Promise<Measurement> {
  const samples = await sample(n, warmup, async (i) => {
    const started = now()
    const isolate = new ivm.Isolate({ memoryLimit: 128 })
    const context = await isolate.createContext()
    const script = await isolate.compileScript(scriptSource(`fresh ${i}`))
    const value: unknown = await script.run(context)
    const elapsed = now() - started
    checkEight(value, 'isolated-vm new isolate')
    isolate.dispose()
    return elapsed
  })
  return summarize('ivm-fresh', 'isolated-vm new isolate + context', samples)
}
