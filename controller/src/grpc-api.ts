// gRPC handlers of the controller: the client API (OsirisService,
// FunctionService, ClusterService) and the host API (HostRegistry). Every
// handler first checks the caller's token for its role (auth.ts). Errors
// become statuses in handleUnary, the one conversion on this boundary.
import type * as grpc from '@grpc/grpc-js'
import {
  type ClusterServiceHandlers,
  type FunctionServiceHandlers,
  type HostRegistryHandlers,
  handleUnary,
  type Identity,
  OsirisError,
  type OsirisServiceHandlers,
  type PeerCall,
  peerIdentity,
  refusePeer,
  toServiceError,
} from '@osiris/proto'
import type { Authenticator, Role } from './auth.ts'
import type { Deployer } from './deployer.ts'
import type { Dispatcher } from './dispatcher.ts'
import type { FunctionRegistry } from './function-registry.ts'
import type { HostRegistry } from './host-registry.ts'
import type { LogStore } from './log-store.ts'

function deadlineOf(call: grpc.ServerUnaryCall<unknown, unknown>): number {
  const deadline = call.getDeadline()
  return deadline instanceof Date ? deadline.getTime() : deadline
}

/**
 * Runs `work` with an AbortSignal that fires if the client cancels while it
 * runs. The listener goes once the work is done: grpc-js emits `cancelled`
 * whenever a call's stream closes, and aborting then would cost a DOMException
 * (with its stack) on every call for nothing.
 */
async function whileNotCancelled<T>(
  call: grpc.ServerUnaryCall<unknown, unknown>,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  const onCancel = (): void => controller.abort()
  call.once('cancelled', onCancel)
  try {
    return await work(controller.signal)
  } finally {
    call.off('cancelled', onCancel)
  }
}

type AnyCall = { metadata: grpc.Metadata } & PeerCall

/** Checks the caller's token, else its client certificate, for `role`; resolves the certificate's identity. */
function authorize(auth: Authenticator, call: AnyCall, role: Role, what: string): Identity | undefined {
  const peer = peerIdentity(call)
  auth.check(call.metadata.get('authorization')[0]?.toString(), role, what, peer)
  return peer
}

/** Wraps a handler so it runs only for a caller allowed `role`. */
function guarded<C extends AnyCall, R>(
  auth: Authenticator,
  role: Role,
  what: string,
  fn: (call: C) => Promise<R> | R,
): (call: C) => Promise<R> | R {
  return (call) => {
    authorize(auth, call, role, what)
    return fn(call)
  }
}

export function osirisServiceHandlers(dispatcher: Dispatcher, auth: Authenticator): OsirisServiceHandlers {
  return {
    CallFunction: handleUnary(
      guarded(auth, 'invoke', 'call functions', (call) =>
        whileNotCancelled(call, (signal) =>
          dispatcher.call(call.request.functionName, call.request.args, {
            callId: call.request.callId,
            deadlineMs: deadlineOf(call),
            signal,
          }),
        ),
      ),
    ),
  }
}

/** Recent lines sent first when the caller does not say how many. */
const DEFAULT_TAIL = 100

export function functionServiceHandlers(
  functions: FunctionRegistry,
  deployer: Deployer,
  logs: LogStore,
  auth: Authenticator,
): FunctionServiceHandlers {
  return {
    TailLogs: (call) => {
      const { name, follow, limit } = call.request
      try {
        authorize(auth, call, 'admin', 'read logs')
        const recent = logs.recent(name, limit || DEFAULT_TAIL)
        if (recent.length === 0 && !functions.has(name)) {
          throw new OsirisError('NOT_FOUND', `function "${name}" is not deployed and has no logs`)
        }
        for (const line of recent) call.write(line)
      } catch (error) {
        call.emit('error', toServiceError(error))
        return
      }
      if (!follow) {
        call.end()
        return
      }
      const stop = logs.follow(name, (line) => call.write(line))
      call.on('cancelled', stop)
      call.on('close', stop)
    },
    Deploy: handleUnary(guarded(auth, 'admin', 'deploy', (call) => deployer.deploy(call.request))),
    GetFunction: handleUnary(guarded(auth, 'invoke', 'read functions', (call) => functions.get(call.request.name))),
    ListFunctions: handleUnary(guarded(auth, 'invoke', 'read functions', () => ({ functions: functions.list() }))),
    DeleteFunction: handleUnary(
      guarded(auth, 'admin', 'delete functions', async (call) => ({
        function: await deployer.remove(call.request.name),
      })),
    ),
  }
}

/**
 * With mTLS on, the name in the host's certificate (`peer`), or
 * UNAUTHENTICATED when it sent none that chains to the cluster CA, or one for
 * another role.
 */
function certifiedHost(mtls: boolean, peer: Identity | undefined, what: string): string | undefined {
  if (!mtls) return undefined
  const refusal = refusePeer(peer, 'host', what)
  if (refusal !== undefined) throw new OsirisError('UNAUTHENTICATED', refusal)
  return peer?.name
}

export function hostRegistryHandlers(
  hosts: HostRegistry,
  functions: FunctionRegistry,
  auth: Authenticator,
  mtls: boolean,
): HostRegistryHandlers {
  return {
    Connect: (stream) => {
      let certified: string | undefined
      try {
        certified = certifiedHost(mtls, peerIdentity(stream), 'register as a host')
        authorize(auth, stream, 'host', 'register as a host')
      } catch (error) {
        stream.emit('error', toServiceError(error))
        return
      }
      hosts.connect(stream, certified)
    },
    FetchCode: handleUnary(async (call) => {
      certifiedHost(mtls, authorize(auth, call, 'host', 'fetch code'), 'fetch code')
      const code = await functions.store.getCode(call.request.codeHash)
      if (code === undefined) throw new OsirisError('NOT_FOUND', `no code with hash "${call.request.codeHash}"`)
      return { code }
    }),
  }
}

export function clusterServiceHandlers(hosts: HostRegistry, auth: Authenticator): ClusterServiceHandlers {
  return {
    ListHosts: handleUnary(
      guarded(auth, 'admin', 'list hosts', () => ({
        hosts: hosts.list().map((h) => ({
          hostId: h.id,
          address: h.address,
          state: h.state,
          runtimes: [...h.runtimes],
          poolReady: h.status.poolReady,
          poolTarget: h.status.poolTarget,
          instances: h.status.instances.reduce((n, i) => n + i.busy + i.idle, 0),
          busy: h.status.instances.reduce((n, i) => n + i.busy, 0),
          inFlight: h.dispatched,
          capacity: h.capacity,
          rssBytes: h.status.rssBytes,
          pid: h.pid,
          connectedAtMs: h.connectedAtMs,
        })),
      })),
    ),
  }
}
