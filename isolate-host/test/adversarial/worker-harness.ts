// Test harness over the worker path: a WorkerExecutor (real worker processes,
// sandboxed as far as this machine allows) with a code store standing in for
// the controller, modules deployed through validate() and called through
// invoke(), and a neighbour function called in a loop meanwhile, in another
// worker, counting its failures. This test process plays the host.
import { type CallLimits, OsirisError } from '@osiris/proto'
import { hashCode } from '../../src/code-cache.ts'
import type { InvokeParams, InvokeResult, LogEntry } from '../../src/executor.ts'
import { WorkerExecutor } from '../../src/worker/worker-executor.ts'

interface Test {
  teardown(fn: () => unknown): void
}

export interface WorkerCall {
  args?: unknown[]
  timeoutMs?: number
  limits?: Partial<CallLimits>
  egressAllow?: string[]
  callId?: string
}

export interface WorkerDeployed {
  module: string
  version: number
  call(functionName: string, options?: WorkerCall): Promise<InvokeResult>
}

/** A neighbour's loop: calls until stopped, then says how it went. */
export interface Neighbour {
  stop(): Promise<{ ok: number; failures: string[] }>
}

export interface WorkerHarness {
  executor: WorkerExecutor
  logs: LogEntry[]
  deploy(source: string, module: string, runtime?: 'js' | 'ts'): Promise<WorkerDeployed>
  /** Deploys a small function, calls it once (so it has its worker), then in a loop until stopped. */
  neighbour(module?: string): Promise<Neighbour>
}

let versions = 0
let calls = 0

export async function workerHarness(
  t: Test,
  options: { workers?: number; memoryLimitMb?: number; loadTimeoutMs?: number } = {},
): Promise<WorkerHarness> {
  const codes = new Map<string, string>()
  const logs: LogEntry[] = []
  const executor = new WorkerExecutor({
    workers: options.workers ?? 2,
    poolTarget: 4,
    memoryLimitMb: options.memoryLimitMb ?? 64,
    maxInstances: 64,
    loadTimeoutMs: options.loadTimeoutMs ?? 1000,
    code: async (hash) => {
      const code = codes.get(hash)
      if (code === undefined) throw new OsirisError('NOT_FOUND', `no code with hash ${hash}`)
      return code
    },
    keepCode: (code) => void codes.set(hashCode(code), code),
    onLog: (entry) => logs.push(entry),
    onChange: () => {},
    warn: () => {},
  })
  t.teardown(() => executor.close(0))
  await executor.ready()
  const deploy = async (source: string, module: string, runtime: 'js' | 'ts' = 'js'): Promise<WorkerDeployed> => {
    const { code } = await executor.validate(runtime, source, `${module}.${runtime}`)
    const codeHash = hashCode(code)
    const version = ++versions
    return {
      module,
      version,
      call(functionName, call = {}) {
        const params: InvokeParams = {
          callId: call.callId ?? `call-${++calls}`,
          functionName,
          module,
          version,
          codeHash,
          args: (call.args ?? []).map((a) => JSON.stringify(a)),
          timeoutMs: call.timeoutMs ?? 10_000,
        }
        if (call.limits) params.limits = call.limits
        if (call.egressAllow) params.egressAllow = call.egressAllow
        return executor.invoke(params)
      },
    }
  }
  return {
    executor,
    logs,
    deploy,
    async neighbour(module = 'neighbour') {
      const deployed = await deploy('export function add(a, b) { return a + b }', module)
      await deployed.call('add', { args: [1, 2] })
      let ok = 0
      const failures: string[] = []
      let running = true
      const loop = (async () => {
        for (let i = 0; running; i++) {
          try {
            const { result } = await deployed.call('add', { args: [i, 1] })
            if (result === String(i + 1)) ok++
            else failures.push(`answered ${result} for ${i} + 1`)
          } catch (error) {
            failures.push(error instanceof Error ? error.message : String(error))
          }
        }
      })()
      return {
        async stop() {
          running = false
          await loop
          return { ok, failures }
        },
      }
    },
  }
}

/** The error a call rejected with (fails when it resolved). */
export async function failure(call: Promise<unknown>): Promise<OsirisError> {
  try {
    await call
  } catch (error) {
    if (error instanceof OsirisError) return error
    throw error
  }
  throw new Error('expected the call to fail, it answered')
}

/** Polls `check` until it holds or `ms` pass (no sleeping as synchronisation). */
export async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = performance.now() + ms
  while (!check()) {
    if (performance.now() > end) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}
