// HostService handlers: the controller's calls into this host. Domain errors
// become gRPC statuses (in handleUnary) and nowhere else on the host side.
// With mTLS, only a peer holding the controller's certificate gets in.
import {
  type HostServiceHandlers,
  handleUnary,
  OsirisError,
  type PeerCall,
  peerIdentity,
  refusePeer,
  type FunctionLimits as WireLimits,
} from '@osiris/proto'
import type { Executor, InvokeResult } from './executor.ts'
import { defaultLimits, type FunctionLimits, resolveLimits } from './limits.ts'
import type { InvokeRecord } from './metrics.ts'

/** Limits from the wire (0 = not asked for) → only the ones the function asked for. */
function askedLimits(limits: WireLimits | null): Partial<FunctionLimits> {
  const asked: Partial<FunctionLimits> = {}
  if (limits?.timeoutMs) asked.timeoutMs = limits.timeoutMs
  if (limits?.cpuMs) asked.cpuMs = limits.cpuMs
  if (limits?.memoryMb) asked.memoryMb = limits.memoryMb
  return asked
}

export function hostServiceHandlers(
  executors: readonly Executor[],
  record: (call: InvokeRecord) => void,
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
      // Limits out of bounds fail the deploy here, where the bounds live.
      resolveLimits(askedLimits(request.limits), defaultLimits())
      return forRuntime(request.runtime).validate(request.runtime, request.source, request.filename)
    }),
    Invoke: handleUnary(async (call): Promise<InvokeResult> => {
      fromController(call)
      const { request } = call
      const started = performance.now()
      try {
        const { limits, egressAllow, ...params } = request
        const result = await forRuntime(request.runtime).invoke({
          ...params,
          limits: askedLimits(limits),
          ...(egressAllow.length > 0 ? { egressAllow } : {}),
        })
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
