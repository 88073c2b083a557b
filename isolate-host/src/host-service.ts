// HostService handlers: the controller's calls into this host. Domain errors
// become gRPC statuses (in handleUnary) and nowhere else on the host side.
import { type HostServiceHandlers, handleUnary, OsirisError } from '@osiris/proto'
import type { Executor, InvokeResult } from './executor.ts'
import type { InvokeRecord } from './metrics.ts'

export function hostServiceHandlers(
  executors: readonly Executor[],
  record: (call: InvokeRecord) => void,
): HostServiceHandlers {
  const forRuntime = (runtime: string): Executor => {
    const executor = executors.find((e) => e.runtimes.includes(runtime))
    if (!executor) throw new OsirisError('UNAVAILABLE', `this host does not run runtime "${runtime}"`)
    return executor
  }
  return {
    Validate: handleUnary(({ request }) =>
      forRuntime(request.runtime).validate(request.runtime, request.source, request.filename),
    ),
    Invoke: handleUnary(async ({ request }): Promise<InvokeResult> => {
      const started = performance.now()
      try {
        const result = await forRuntime(request.runtime).invoke(request)
        const durationMs = performance.now() - started
        record({
          functionName: request.functionName,
          outcome: 'OK',
          message: '',
          coldStart: result.coldStart,
          durationMs,
        })
        return result
      } catch (error) {
        const outcome = error instanceof OsirisError ? error.code : 'INTERNAL'
        const message = error instanceof Error ? error.message : String(error)
        const durationMs = performance.now() - started
        record({ functionName: request.functionName, outcome, message, coldStart: false, durationMs })
        throw error
      }
    }),
  }
}
