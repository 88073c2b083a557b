// The one place the .proto files are loaded. Every part gets its service
// definitions, typed client constructors and handler types from here.
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type * as m from './messages.ts'

/** Folder holding `osiris/v1/*.proto` and `grpc/health/v1/health.proto`. */
export const PROTO_ROOT = fileURLToPath(new URL('../', import.meta.url))

export const PROTO_FILES = [
  'osiris/v1/osiris.proto',
  'osiris/v1/functions.proto',
  'osiris/v1/host.proto',
  'osiris/v1/registry.proto',
  'osiris/v1/cluster.proto',
  'grpc/health/v1/health.proto',
] as const

/** Decoding options every part uses; messages.ts mirrors them. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
}

const definition = protoLoader.loadSync([...PROTO_FILES], LOADER_OPTIONS)

function service(name: string): grpc.ServiceClientConstructor {
  const def = definition[name]
  if (def === undefined || 'format' in def) {
    throw new Error(`service ${name} is missing from the proto files`)
  }
  return grpc.makeClientConstructor(def as grpc.ServiceDefinition, name)
}

export type Write<T> = Partial<T>

type Unary<Req, Res> = (
  request: Write<Req>,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: grpc.requestCallback<Res>,
) => grpc.ClientUnaryCall

export interface OsirisServiceClient extends grpc.Client {
  CallFunction: Unary<m.CallRequest, m.CallResponse>
}
export interface OsirisServiceHandlers extends grpc.UntypedServiceImplementation {
  CallFunction: grpc.handleUnaryCall<m.CallRequest, Write<m.CallResponse>>
}

export interface FunctionServiceClient extends grpc.Client {
  Deploy: Unary<m.DeployRequest, m.DeployResponse>
  GetFunction: Unary<m.GetFunctionRequest, m.FunctionInfo>
  ListFunctions: Unary<m.ListFunctionsRequest, m.ListFunctionsResponse>
  DeleteFunction: Unary<m.DeleteFunctionRequest, m.DeleteFunctionResponse>
  TailLogs(
    request: Write<m.TailLogsRequest>,
    metadata?: grpc.Metadata,
    options?: Partial<grpc.CallOptions>,
  ): grpc.ClientReadableStream<m.LogLine>
}
export interface FunctionServiceHandlers extends grpc.UntypedServiceImplementation {
  Deploy: grpc.handleUnaryCall<m.DeployRequest, Write<m.DeployResponse>>
  GetFunction: grpc.handleUnaryCall<m.GetFunctionRequest, Write<m.FunctionInfo>>
  ListFunctions: grpc.handleUnaryCall<m.ListFunctionsRequest, Write<m.ListFunctionsResponse>>
  DeleteFunction: grpc.handleUnaryCall<m.DeleteFunctionRequest, Write<m.DeleteFunctionResponse>>
  TailLogs: grpc.handleServerStreamingCall<m.TailLogsRequest, Write<m.LogLine>>
}

export interface HostServiceClient extends grpc.Client {
  Validate: Unary<m.ValidateRequest, m.ValidateResponse>
  Invoke: Unary<m.InvokeRequest, m.InvokeResponse>
  Cancel: Unary<m.CancelRequest, m.CancelResponse>
}
export interface HostServiceHandlers extends grpc.UntypedServiceImplementation {
  Validate: grpc.handleUnaryCall<m.ValidateRequest, Write<m.ValidateResponse>>
  Invoke: grpc.handleUnaryCall<m.InvokeRequest, Write<m.InvokeResponse>>
  Cancel: grpc.handleUnaryCall<m.CancelRequest, Write<m.CancelResponse>>
}

/** What a host writes on its Connect stream (one of the three). */
export type HostMessageOut =
  | { register: Write<m.RegisterHost> }
  | { status: Write<m.HostStatus> }
  | { heartbeat: Write<m.Heartbeat> }
  | { logs: Write<m.LogBatch> }
/** What the controller writes on a host's Connect stream. */
export type ControllerMessageOut =
  | { registered: Write<m.Registered> }
  | { evict: Write<m.Evict> }
  | { drainAck: Record<string, never> }

export interface HostRegistryClient extends grpc.Client {
  Connect(
    metadata?: grpc.Metadata,
    options?: Partial<grpc.CallOptions>,
  ): grpc.ClientDuplexStream<HostMessageOut, m.ControllerMessage>
  FetchCode: Unary<m.FetchCodeRequest, m.FetchCodeResponse>
}
export interface HostRegistryHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<m.HostMessage, ControllerMessageOut>
  FetchCode: grpc.handleUnaryCall<m.FetchCodeRequest, Write<m.FetchCodeResponse>>
}

export interface ClusterServiceClient extends grpc.Client {
  ListHosts: Unary<m.ListHostsRequest, m.ListHostsResponse>
}
export interface ClusterServiceHandlers extends grpc.UntypedServiceImplementation {
  ListHosts: grpc.handleUnaryCall<m.ListHostsRequest, Write<m.ListHostsResponse>>
}

export interface HealthClient extends grpc.Client {
  Check: Unary<m.HealthCheckRequest, m.HealthCheckResponse>
  Watch(
    request: Write<m.HealthCheckRequest>,
    options?: Partial<grpc.CallOptions>,
  ): grpc.ClientReadableStream<m.HealthCheckResponse>
}
export interface HealthHandlers extends grpc.UntypedServiceImplementation {
  Check: grpc.handleUnaryCall<m.HealthCheckRequest, m.HealthCheckResponse>
  Watch: grpc.handleServerStreamingCall<m.HealthCheckRequest, m.HealthCheckResponse>
}

interface TypedService<Client extends grpc.Client> {
  new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): Client
  service: grpc.ServiceDefinition
  serviceName: string
}

function typed<Client extends grpc.Client>(name: string): TypedService<Client> {
  return service(name) as unknown as TypedService<Client>
}

export const OsirisService = typed<OsirisServiceClient>('osiris.v1.OsirisService')
export const FunctionService = typed<FunctionServiceClient>('osiris.v1.FunctionService')
export const HostService = typed<HostServiceClient>('osiris.v1.HostService')
export const HostRegistry = typed<HostRegistryClient>('osiris.v1.HostRegistry')
export const ClusterService = typed<ClusterServiceClient>('osiris.v1.ClusterService')
export const Health = typed<HealthClient>('grpc.health.v1.Health')
