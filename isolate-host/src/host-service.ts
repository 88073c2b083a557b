// HostService handlers: the controller's calls into this host. Domain errors
// become gRPC statuses (in handleUnary) and nowhere else on the host side.
// Only the controller this host registered with gets in, in every mode: it
// presents the host's call key (host-key.ts) on every call; with mTLS it must
// also hold the controller's certificate. Limits, egress allowances and code
// are therefore only ever taken from an authenticated controller.
// An Invoke runs at most once per call id (recent ids are remembered), and
// its work is stopped when the controller cancels it or its deadline passes.
import type * as grpc from '@grpc/grpc-js'
import {
  type BreachKind,
  CALL_KEY_METADATA,
  defaultLimits,
  type HostServiceHandlers,
  handleUnary,
  notStarted,
  OsirisError,
  type PeerCall,
  peerIdentity,
  refusePeer,
  resolveLimits,
  secretChecker,
} from '@osiris/proto'
import { LRUCache } from 'lru-cache'
import type { Executor, InvokeResult } from './executor.ts'
import type { InvokeRecord } from './metrics.ts'

/**
 * Call ids this host remembers, to refuse a second Invoke of one: far more
 * than can be in flight or retried at once (a host runs at most a few
 * thousand calls a second, and a call is only ever re-sent within seconds).
 */
const SEEN_CALL_IDS = 100_000

/** An Invoke in progress: how to stop it, and when it has stopped (its executor answered). */
interface Running {
  controller: AbortController
  stopped: Promise<void>
}

/**
 * An AbortSignal for one Invoke: aborted when the caller cancels the call,
 * its connection drops, or its deadline passes. `done` detaches it (grpc-js
 * emits `cancelled` when any call's stream closes, answered or not).
 */
function callSignal(call: grpc.ServerUnaryCall<unknown, unknown>): {
  controller: AbortController
  done: () => void
} {
  const controller = new AbortController()
  const abort = (): void => controller.abort()
  call.once('cancelled', abort)
  const deadline = call.getDeadline()
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline
  const timer = Number.isFinite(deadlineMs) ? setTimeout(abort, Math.max(0, deadlineMs - Date.now())) : undefined
  return {
    controller,
    done: () => {
      call.off('cancelled', abort)
      clearTimeout(timer)
    },
  }
}

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
  const fromController = (call: PeerCall & { metadata: grpc.Metadata }): void => {
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
  /** Call ids seen here: running (how to stop it, when it has stopped), over, or cancelled before arriving. */
  const seen = new LRUCache<string, Running | 'over' | 'cancelled'>({ max: SEEN_CALL_IDS })
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
      const { controller, done } = callSignal(call)
      const stopped = Promise.withResolvers<void>()
      if (request.callId) {
        const before = seen.get(request.callId)
        if (before === 'cancelled') {
          done()
          throw notStarted('CANCELLED', `call "${request.callId}" was cancelled before it reached this host`)
        }
        if (before !== undefined) {
          done()
          const again = new OsirisError(
            'UNAVAILABLE',
            `call "${request.callId}" already reached this host; it is not run twice`,
          )
          again.started = 'maybe'
          throw again
        }
        seen.set(request.callId, { controller, stopped: stopped.promise })
      }
      const { signal } = controller
      const started = performance.now()
      let outcome = 'OK'
      let message = ''
      let coldStart = false
      let breach: BreachKind | undefined
      try {
        // Limits as sent (0 = the default) and the egress allowlist: the executors resolve both.
        const result = await forRuntime(request.runtime).invoke({ ...request, signal })
        coldStart = result.coldStart
        return result
      } catch (error) {
        outcome = error instanceof OsirisError ? error.code : 'INTERNAL'
        message = error instanceof Error ? error.message : String(error)
        if (error instanceof OsirisError) breach = error.breach
        throw error
      } finally {
        done()
        if (request.callId) seen.set(request.callId, 'over')
        stopped.resolve()
        record?.({
          functionName: request.functionName,
          outcome,
          message,
          coldStart,
          breach,
          durationMs: performance.now() - started,
        })
      }
    }),
    Cancel: handleUnary(async (call) => {
      fromController(call)
      const { callId } = call.request
      const entry = seen.get(callId)
      if (entry === undefined) {
        // Not here yet (the Invoke may still be on its way): it will be refused if it comes.
        seen.set(callId, 'cancelled')
        return { stopped: false }
      }
      if (typeof entry === 'string') return { stopped: false }
      entry.controller.abort()
      await entry.stopped
      return { stopped: true }
    }),
  }
}
