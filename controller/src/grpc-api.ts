// gRPC handlers of the controller: the client API (OsirisService,
// FunctionService) and the host API (HostRegistry). Errors become statuses in
// handleUnary, the one conversion on this boundary.
import type * as grpc from '@grpc/grpc-js'
import {
  type ClusterServiceHandlers,
  type FunctionServiceHandlers,
  type HostRegistryHandlers,
  handleUnary,
  OsirisError,
  type OsirisServiceHandlers,
} from '@osiris/proto'
import type { Deployer } from './deployer.ts'
import type { Dispatcher } from './dispatcher.ts'
import type { FunctionRegistry } from './function-registry.ts'
import type { HostRegistry } from './host-registry.ts'

function deadlineOf(call: grpc.ServerUnaryCall<unknown, unknown>): number {
  const deadline = call.getDeadline()
  return deadline instanceof Date ? deadline.getTime() : deadline
}

/** An AbortSignal that fires when the client cancels the call. */
function signalOf(call: grpc.ServerUnaryCall<unknown, unknown>): AbortSignal {
  const controller = new AbortController()
  call.once('cancelled', () => controller.abort())
  return controller.signal
}

export function osirisServiceHandlers(dispatcher: Dispatcher): OsirisServiceHandlers {
  return {
    CallFunction: handleUnary((call) =>
      dispatcher.call(call.request.functionName, call.request.args, {
        callId: call.request.callId,
        deadlineMs: deadlineOf(call),
        signal: signalOf(call),
      }),
    ),
  }
}

export function functionServiceHandlers(functions: FunctionRegistry, deployer: Deployer): FunctionServiceHandlers {
  return {
    Deploy: handleUnary((call) => deployer.deploy(call.request)),
    GetFunction: handleUnary((call) => functions.get(call.request.name)),
    ListFunctions: handleUnary(() => ({ functions: functions.list() })),
    DeleteFunction: handleUnary(async (call) => ({ function: await deployer.remove(call.request.name) })),
  }
}

export function hostRegistryHandlers(hosts: HostRegistry, functions: FunctionRegistry): HostRegistryHandlers {
  return {
    Connect: (stream) => hosts.connect(stream),
    FetchCode: handleUnary(async (call) => {
      const code = await functions.store.getCode(call.request.codeHash)
      if (code === undefined) throw new OsirisError('NOT_FOUND', `no code with hash "${call.request.codeHash}"`)
      return { code }
    }),
  }
}

export function clusterServiceHandlers(hosts: HostRegistry): ClusterServiceHandlers {
  return {
    ListHosts: handleUnary(() => ({
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
  }
}
