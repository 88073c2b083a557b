// One Invoke on one host, with what is known of whether it started. The call
// is put on the host's channel only once that channel is connected (checked
// without sending anything), and with waitForReady, so grpc-js never fails it
// for want of a connection after the check. Hence:
//   - the host unreachable before anything was sent, or a refusal the host
//     sent before starting the call (`osiris-started: never`): started 'never',
//     and the dispatcher may offer the call to another host;
//   - anything the transport reports after the call was sent (a dropped
//     connection, a reset stream, a cancel or deadline on this side), or the
//     host lost meanwhile: started 'maybe', never sent again.
// Never decided from an error's text.
import {
  connected,
  fromSentCall,
  type InvokeRequest,
  type InvokeResponse,
  notStarted,
  OsirisError,
  unary,
} from '@osiris/proto'
import type { HostEntry } from './host-registry.ts'

/** Runs one call on a host; rejects with an OsirisError whose `started` says whether it may have run. */
export type HostInvoker = (
  host: HostEntry,
  request: InvokeRequest,
  options: { timeoutMs: number; signal: AbortSignal | undefined },
) => Promise<InvokeResponse>

/** Longest wait for a host's channel to connect before the call goes elsewhere, ms. */
const CONNECT_WAIT_MS = 1000

export const invokeOverGrpc: HostInvoker = async (host, request, { timeoutMs, signal }) => {
  const where = `host "${host.id}"`
  const reachable = await connected(
    host.client,
    Date.now() + Math.min(CONNECT_WAIT_MS, timeoutMs),
    signal ? AbortSignal.any([signal, host.lost.signal]) : host.lost.signal,
  )
  if (!reachable) {
    if (signal?.aborted) throw notStarted('CANCELLED', `call of "${request.functionName}" was cancelled`)
    const why = host.lost.signal.aborted
      ? `it was lost: ${host.goneReason}`
      : `not connected within ${CONNECT_WAIT_MS} ms`
    throw notStarted('UNAVAILABLE', `${where} could not be reached (${why}); the call was not sent`)
  }
  // Two listeners, not AbortSignal.any: a composite of the long-lived host
  // signal per call costs a WeakRef and a finalizer, and every caller abort
  // then also walks it.
  const abort = signal ? [signal, host.lost.signal] : host.lost.signal
  try {
    return await unary(host.client, host.client.Invoke, request, { timeoutMs, signal: abort, waitForReady: true })
  } catch (error) {
    if (host.lost.signal.aborted && !signal?.aborted) {
      const lost = new OsirisError(
        'UNAVAILABLE',
        `host "${host.id}" was lost while the call of "${request.functionName}" was in flight: ${host.goneReason}`,
      )
      lost.started = 'maybe'
      throw lost
    }
    const converted = fromSentCall(error, where)
    if (converted.code === 'UNAVAILABLE' && converted.started === 'maybe') {
      const lost = new OsirisError(
        'UNAVAILABLE',
        `host "${host.id}" was lost while the call of "${request.functionName}" was in flight: ${converted.message}`,
        { cause: error },
      )
      lost.started = 'maybe'
      throw lost
    }
    throw converted
  }
}
