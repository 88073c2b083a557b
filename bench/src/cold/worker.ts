// Cold start of a worker_threads Worker: from `new Worker` to the result of
// addNumbers(3, 5) arriving back as a message. Termination is untimed.
import { Worker } from 'node:worker_threads'
import { type Measurement, now, sample, summarize } from '../measure.ts'
import { checkEight, scriptSource } from './source.ts'

export async function measureWorker(n: number, warmup: number): Promise<Measurement> {
  const samples = await sample(n, warmup, async (i) => {
    const started = now()
    const code = `require('node:worker_threads').parentPort.postMessage(eval(${JSON.stringify(scriptSource(`w ${i}`))}))`
    const worker = new Worker(code, { eval: true })
    const value = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    const elapsed = now() - started
    checkEight(value, 'worker_threads')
    await worker.terminate()
    return elapsed
  })
  return summarize('worker', 'worker_threads new Worker', samples)
}
