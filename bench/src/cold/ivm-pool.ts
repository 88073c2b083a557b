// Cold start the Osiris way: the real IsolateExecutor takes a generic isolate
// from its warm pool, specializes it with a new function's code and makes the
// first call. Each sample is a distinct function; the pool refills between
// samples (as it does on a host between bursts), untimed.
// bench imports the executor by path: it measures an internal the isolate-host
// package does not export (and nothing may import bench).
import { CodeCache, hashCode } from '../../../isolate-host/src/code-cache.ts'
import { IsolateExecutor } from '../../../isolate-host/src/isolate-executor.ts'
import { WorkerExecutor } from '../../../isolate-host/src/worker/worker-executor.ts'
import { type Measurement, sample, summarize } from '../measure.ts'
import { checkEight, moduleSource } from './source.ts'

/**
 * Where the executor runs tenant code: `in-process` (IsolateExecutor in this
 * process, as before worker processes) or `workers` (WorkerExecutor: the
 * same executor in worker processes, the time measured on this side of the
 * IPC hop). Both are measured in one run, for the A/B budget.
 */
export type PoolPath = 'in-process' | 'workers'

export async function measureIvmPool(
  n: number,
  warmup: number,
  path: PoolPath = 'in-process',
): Promise<{ cold: Measurement; warm: Measurement }> {
  const codeCache = new CodeCache(async (hash) => {
    throw new Error(`code ${hash} should already be cached by validate()`)
  }, 64 << 20)
  const options = {
    poolTarget: 8,
    memoryLimitMb: 128,
    maxInstances: n + warmup + 10,
    loadTimeoutMs: 1000,
    onLog: () => {},
    onChange: () => {},
  }
  const inProcess = path === 'in-process' ? new IsolateExecutor({ ...options, codeCache }) : undefined
  const workers =
    path === 'workers'
      ? new WorkerExecutor({
          ...options,
          code: (hash) => codeCache.get(hash),
          keepCode: (code) => void codeCache.put(code),
          warn: () => {},
        })
      : undefined
  const executor = inProcess ?? workers
  if (!executor) throw new Error(`unknown path ${path}`)
  await workers?.ready()
  /** Untimed, between samples: the pool back at its target, as on a host between bursts. */
  const poolFull = async (): Promise<void> => {
    if (inProcess) return inProcess.pool.filled()
    const deadline = Date.now() + 30_000
    while (executor.status().poolReady < executor.status().poolTarget && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }
  const warm: number[] = []
  const tag = path === 'workers' ? '-workers' : ''
  try {
    const cold = await sample(n, warmup, async (i) => {
      const { code } = await executor.validate('js', moduleSource(`pool ${path} ${i}`), `m${i}.js`)
      await poolFull()
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
      checkEight(JSON.parse(first.result), `isolated-vm pool (${path})`)
      const again = await executor.invoke(params)
      if (i >= 0) warm.push(again.durationUs / 1000)
      return first.durationUs / 1000
    })
    const where = path === 'workers' ? ', through a worker process' : ''
    return {
      cold: summarize(
        `ivm-pool${tag}`,
        `isolated-vm from the Osiris warm pool (specialize + first call${where})`,
        cold,
      ),
      warm: summarize(`ivm-pool${tag}-warm`, `isolated-vm warm instance, host-side call${where}`, warm),
    }
  } finally {
    await executor.close(0)
  }
}
