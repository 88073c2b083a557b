// HostService handlers: the controller's calls into this host. Domain errors
// become gRPC statuses (in handleUnary) and nowhere else on the host side.
// With mTLS, only a peer holding the controller's certificate gets in.
import {
  type BreachKind,
  defaultLimits,
  type HostServiceHandlers,
  handleUnary,
  OsirisError,
  type PeerCall,
  peerIdentity,
  refusePeer,
  resolveLimits,
} from '@osiris/proto'
import type { Executor, InvokeResult } from './executor.ts'
import type { InvokeRecord } from './metrics.ts'

export function hostServiceHandlers(
  executors: readonly Executor[],
  record: ((call: InvokeRecord) => void) | undefined,
  mtls: boolean,
): HostServiceHandlers {
  const fromController = (call: PeerCall): void => {
    if (!mtls) return
    const refusal = refusePeer(peerIdentity(call), 'controller', 'call a host')
    if (refusal !== undefined) throw new OsirisError('PERMISSION_DENIED', refusal)
  }
  const forRuntime = (runtime: string): Executor => {
    const executor = executors.find((e) => e.runtimes.includes(runtime))
    if (!executor) throw new OsirisError('UNAVAILABLE', `this host does not run runtime "${runtime}"`)
    return executor
  }
  return {
    Validate: handleUnary((call) => {
      fromController(call)
      const { request } = call
      // Limits out of bounds fail the deploy here, where the bounds live (0 = the default).
      resolveLimits(request.limits, defaultLimits())
      return forRuntime(request.runtime).validate(request.runtime, request.source, request.filename)
    }),
    Invoke: handleUnary(async (call): Promise<InvokeResult> => {
      fromController(call)
      const { request } = call
      const started = performance.now()
      let outcome = 'OK'
      let message = ''
      let breach: BreachKind | undefined
      let coldStart = false
      try {
        // Limits as sent (0 = the default) and the egress allowlist: the executors resolve both.
        const result = await forRuntime(request.runtime).invoke(request)
        coldStart = result.coldStart
        return result
      } catch (error) {
        outcome = error instanceof OsirisError ? error.code : 'INTERNAL'
        message = error instanceof Error ? error.message : String(error)
        if (error instanceof OsirisError) breach = error.breach
        throw error
      } finally {
        record?.({
          functionName: request.functionName,
          outcome,
          message,
          breach,
          coldStart,
          durationMs: performance.now() - started,
        })
      }
    }),
  }
}
