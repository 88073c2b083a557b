// Cold start in node:vm: a new context (no isolation from the host's heap or
// event loop, so not a sandbox; here as the cheapest in-process baseline).
import vm from 'node:vm'
import { type Measurement, now, sample, summarize } from '../measure.ts'
import { checkEight, scriptSource } from './source.ts'

export async function measureNodeVm(n: number, warmup: number): Promise<Measurement> {
  const samples = await sample(n, warmup, (i) => {
    const started = now()
    const context = vm.createContext({})
    const value: unknown = vm.runInContext(scriptSource(`vm ${i}`), context)
    const elapsed = now() - started
    checkEight(value, 'node:vm')
    return elapsed
  })
  return summarize('node-vm', 'node:vm new context', samples)
}
