// One Invoke on one host, with what is known of whether it started, and of
// when its work stopped. The call is put on the host's channel only once that
// channel is connected (checked without sending anything), and with
// waitForReady, so grpc-js never fails it for want of a connection after the
// check. Hence:
//   - the host unreachable before anything was sent, or a refusal the host
//     sent before starting the call (`osiris-started: never`): started 'never',
//     and the dispatcher may offer the call to another host;
//   - anything the transport reports after the call was sent (a dropped
//     connection, a reset stream, a deadline), or the host lost meanwhile:
//     started 'maybe', never sent again.
// Never decided from an error's text.
//
// When the caller goes (its signal aborts), the caller is answered CANCELLED
// at once and the host is asked to stop the call (HostService.Cancel); the
// Invoke itself is left to end, which the host answers once the work has
// really stopped. `done` is called then, not before: until then the slot
// stays taken, so the caps hold under a storm of cancelled calls.
import * as grpc from '@grpc/grpc-js'
import {
  connected,
  fromSentCall,
  type InvokeRequest,
  type InvokeResponse,
  isTransportError,
  notStarted,
  OsirisError,
  unary,
} from '@osiris/proto'
import type { HostEntry } from './host-registry.ts'

export interface InvokeOptions {
  /** The Invoke's deadline, relative, ms. */
  timeoutMs: number
  /** The caller's: aborting answers CANCELLED at once and stops the call on the host. */
  signal: AbortSignal | undefined
  /** Called once, when the host is known not to be working on the call any more. */
  done: () => void
}

/** Runs one call on a host; rejects with an OsirisError whose `started` says whether it may have run. */
export type HostInvoker = (host: HostEntry, request: InvokeRequest, options: InvokeOptions) => Promise<InvokeResponse>

/** Longest wait for a host's channel to connect before the call goes elsewhere, ms. */
const CONNECT_WAIT_MS = 1000
/** Longest wait for a host to confirm a cut-off call stopped, ms. */
const STOP_WAIT_MS = 5000

/** Asks `host` to stop call `callId`; resolves once it has (or could not be asked). */
function stopOnHost(host: HostEntry, callId: string): Promise<void> {
  if (host.lost.signal.aborted) return Promise.resolve()
  return unary(host.client, host.client.Cancel, { callId }, { timeoutMs: STOP_WAIT_MS, signal: host.lost.signal }).then(
    () => {},
    () => {},
  )
}

function lostError(host: HostEntry, functionName: string, why: string, cause?: unknown): OsirisError {
  const lost = new OsirisError(
    'UNAVAILABLE',
    `host "${host.id}" was lost while the call of "${functionName}" was in flight: ${why}`,
    cause === undefined ? undefined : { cause },
  )
  lost.started = 'maybe'
  return lost
}

export const invokeOverGrpc: HostInvoker = async (host, request, { timeoutMs, signal, done }) => {
  const where = `host "${host.id}"`
  // The common case (connected) costs one state read; a composite signal only when waiting.
  const reachable =
    host.client.getChannel().getConnectivityState(true) === grpc.connectivityState.READY ||
    (await connected(
      host.client,
      Date.now() + Math.min(CONNECT_WAIT_MS, timeoutMs),
      signal ? AbortSignal.any([signal, host.lost.signal]) : host.lost.signal,
    ))
  if (!reachable || signal?.aborted) {
    done()
    if (signal?.aborted) throw notStarted('CANCELLED', `call of "${request.functionName}" was cancelled`)
    const why = host.lost.signal.aborted
      ? `it was lost: ${host.goneReason}`
      : `not connected within ${CONNECT_WAIT_MS} ms`
    throw notStarted('UNAVAILABLE', `${where} could not be reached (${why}); the call was not sent`)
  }
  const work = unary(host.client, host.client.Invoke, request, {
    timeoutMs,
    signal: host.lost.signal,
    waitForReady: true,
  })
  // The slot is free once the host answers (it answers a cancelled call once
  // its work has stopped), or once it confirms a call cut off by the transport stopped.
  work.then(done, (error: unknown) => {
    if (isTransportError(error) && !host.lost.signal.aborted) void stopOnHost(host, request.callId).then(done)
    else done()
  })
  let onAbort: (() => void) | undefined
  const cancelled = !signal
    ? undefined
    : new Promise<never>((_, reject) => {
        onAbort = () => {
          void stopOnHost(host, request.callId)
          const error = new OsirisError('CANCELLED', `call of "${request.functionName}" was cancelled by its caller`)
          error.started = 'maybe'
          reject(error)
        }
        signal.addEventListener('abort', onAbort, { once: true })
      })
  cancelled?.catch(() => {})
  try {
    return await (cancelled ? Promise.race([work, cancelled]) : work)
  } catch (error) {
    if (error instanceof OsirisError) throw error
    if (host.lost.signal.aborted) throw lostError(host, request.functionName, host.goneReason)
    const converted = fromSentCall(error, where)
    if (converted.code === 'UNAVAILABLE' && converted.started === 'maybe') {
      throw lostError(host, request.functionName, converted.message, error)
    }
    throw converted
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
  }
}
