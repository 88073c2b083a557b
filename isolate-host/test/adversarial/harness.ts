// Test harness over the real executor path: an IsolateExecutor with a real
// CodeCache, modules deployed through validate() and called through invoke().
// Shared by the runtime, limits and adversarial tests.
import { type CallLimits, OsirisError } from '@osiris/proto'
import { CodeCache, hashCode } from '../../src/code-cache.ts'
import type { InvokeParams, InvokeResult, LogEntry } from '../../src/executor.ts'
import { IsolateExecutor } from '../../src/isolate-executor.ts'

/** What the harness needs of a tap test. */
interface Test {
  teardown(fn: () => unknown): void
}

export interface CallOptions {
  args?: unknown[]
  /** Raw JSON texts, sent as they are (instead of `args`). */
  json?: string[]
  /** The function's wall-clock limit, as deployed (limits.timeoutMs wins when both are given). Default 5000. */
  timeoutMs?: number
  /** The caller's deadline, ms (InvokeParams.timeoutMs); none by default. */
  callerTimeoutMs?: number
  limits?: Partial<CallLimits>
  egressAllow?: string[]
  callId?: string
}

export interface Deployed {
  module: string
  version: number
  codeHash: string
  call(functionName: string, options?: CallOptions): Promise<InvokeResult>
}

export interface Harness {
  executor: IsolateExecutor
  logs: LogEntry[]
  deploy(source: string, module?: string): Promise<Deployed>
}

let versions = 0

export async function harness(
  t: Test,
  options: { poolTarget?: number; memoryLimitMb?: number } = {},
): Promise<Harness> {
  const codeCache = new CodeCache(async (hash) => {
    throw new OsirisError('NOT_FOUND', `no code with hash ${hash} (no controller in this test)`)
  }, 16 << 20)
  const logs: LogEntry[] = []
  const executor = new IsolateExecutor({
    poolTarget: options.poolTarget ?? 2,
    memoryLimitMb: options.memoryLimitMb ?? 64,
    maxInstances: 64,
    loadTimeoutMs: 1000,
    codeCache,
    onLog: (entry) => logs.push(entry),
    onChange: () => {},
  })
  t.teardown(() => executor.close(0))
  await executor.pool.filled()
  let calls = 0
  return {
    executor,
    logs,
    async deploy(source, module = 'mod') {
      const { code } = await executor.validate('js', source, `${module}.js`)
      const codeHash = hashCode(code)
      const version = ++versions
      return {
        module,
        version,
        codeHash,
        call(functionName, call = {}) {
          const params: InvokeParams = {
            callId: call.callId ?? `call-${++calls}`,
            functionName,
            module,
            version,
            codeHash,
            args: call.json ?? (call.args ?? []).map((a) => JSON.stringify(a)),
            timeoutMs: call.callerTimeoutMs ?? 0,
            limits: { timeoutMs: call.timeoutMs ?? 5000, ...call.limits },
          }
          if (call.egressAllow) params.egressAllow = call.egressAllow
          return executor.invoke(params)
        },
      }
    },
  }
}

/** The call's result parsed, for tests that expect success. */
export async function value(call: Promise<InvokeResult>): Promise<unknown> {
  return JSON.parse((await call).result)
}

/** The error a call rejected with (fails when it resolved). */
export async function failure(call: Promise<InvokeResult>): Promise<OsirisError> {
  try {
    const result = await call
    throw new Error(`expected the call to fail, it answered ${result.result.slice(0, 200)}`)
  } catch (error) {
    if (error instanceof OsirisError) return error
    throw error
  }
}

/** Polls `check` until it holds or `ms` pass (no sleeping as synchronisation). */
export async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = performance.now() + ms
  while (!check()) {
    if (performance.now() > end) return false
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return true
}
