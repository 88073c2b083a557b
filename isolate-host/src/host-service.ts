// HostService handlers: the controller's calls into this host. Domain errors
// become gRPC statuses (in handleUnary) and nowhere else on the host side.
// Only the controller this host registered with gets in, in every mode: it
// presents the host's call key (host-key.ts) on every call; with mTLS it must
// also hold the controller's certificate. Limits, egress allowances and code
// are therefore only ever taken from an authenticated controller.

import type { Metadata } from '@grpc/grpc-js'
import {
  type BreachKind,
  CALL_KEY_METADATA,
  defaultLimits,
  type HostServiceHandlers,
  handleUnary,
  OsirisError,
  type PeerCall,
  peerIdentity,
  refusePeer,
  resolveLimits,
  secretChecker,
} from '@osiris/proto'
import type { Executor, InvokeResult } from './executor.ts'
import type { InvokeRecord } from './metrics.ts'

/**
 * The HostService handlers. `callKey` is the secret this host registered with;
 * a call without it is UNAUTHENTICATED, and with `mtls` a peer without the
 * controller's certificate is PERMISSION_DENIED, before anything is read.
 */
export function hostServiceHandlers(
  executors: readonly Executor[],
  record: ((call: InvokeRecord) => void) | undefined,
  mtls: boolean,
  callKey: string,
): HostServiceHandlers {
  const isCallKey = secretChecker(callKey)
  const fromController = (call: PeerCall & { metadata: Metadata }): void => {
    if (mtls) {
      const refusal = refusePeer(peerIdentity(call), 'controller', 'call a host')
      if (refusal !== undefined) throw new OsirisError('PERMISSION_DENIED', refusal)
    }
    const presented = call.metadata.get(CALL_KEY_METADATA)[0]
    if (!isCallKey(typeof presented === 'string' ? presented : undefined)) {
      throw new OsirisError(
        'UNAUTHENTICATED',
        `this host answers only the controller it registered with: ${presented === undefined ? 'no' : 'a wrong'} ${CALL_KEY_METADATA}`,
      )
    }
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
