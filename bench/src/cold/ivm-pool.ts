// Cold start the Osiris way: the real IsolateExecutor takes a generic isolate
// from its warm pool, specializes it with a new function's code and makes the
// first call. Each sample is a distinct function; the pool refills between
// samples (as it does on a host between bursts), untimed.
// bench imports the executor by path: it measures an internal the isolate-host
// package does not export (and nothing may import bench).
import { CodeCache, hashCode } from '../../../isolate-host/src/code-cache.ts'
import { IsolateExecutor } from '../../../isolate-host/src/isolate-executor.ts'
import { type Measurement, sample, summarize } from '../measure.ts'
import { checkEight, moduleSource } from './source.ts'

export async function measureIvmPool(n: number, warmup: number): Promise<{ cold: Measurement; warm: Measurement }> {
  const codeCache = new CodeCache(async (hash) => {
    throw new Error(`code ${hash} should already be cached by validate()`)
  }, 64 << 20)
  const executor = new IsolateExecutor({
    poolTarget: 8,
    memoryLimitMb: 128,
    maxInstances: n + warmup + 10,
    loadTimeoutMs: 1000,
    codeCache,
    onLog: () => {},
    onChange: () => {},
  })
  const warm: number[] = []
  try {
    const cold = await sample(n, warmup, async (i) => {
      const { code } = await executor.validate('js', moduleSource(`pool ${i}`), `m${i}.js`)
      await executor.pool.filled()
      const params = {
        callId: `c${i}`,
        functionName: 'addNumbers',
        module: `m${i}`,
        version: i + 1000,
        codeHash: hashCode(code),
        args: ['3', '5'],
        timeoutMs: 1000,
      }
      const first = await executor.invoke(params)
      if (!first.coldStart) throw new Error('expected a cold start from the warm pool')
      checkEight(JSON.parse(first.result), 'isolated-vm pool')
      const again = await executor.invoke(params)
      if (i >= 0) warm.push(again.durationUs / 1000)
      return first.durationUs / 1000
    })
    return {
      cold: summarize('ivm-pool', 'isolated-vm from the Osiris warm pool (specialize + first call)', cold),
      warm: summarize('ivm-pool-warm', 'isolated-vm warm instance, host-side call', warm),
    }
  } finally {
    await executor.close(0)
  }
}
