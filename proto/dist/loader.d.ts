import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type * as m from './messages.ts';
/** Folder holding `osiris/v1/*.proto` and `grpc/health/v1/health.proto`. */
export declare const PROTO_ROOT: string;
export declare const PROTO_FILES: readonly ['osiris/v1/osiris.proto', 'osiris/v1/functions.proto', 'osiris/v1/host.proto', 'osiris/v1/registry.proto', 'grpc/health/v1/health.proto'];
/** Decoding options every part uses; messages.ts mirrors them. */
export declare const LOADER_OPTIONS: protoLoader.Options;
export type Write<T> = Partial<T>;
type Unary<Req, Res> = (request: Write<Req>, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;
export interface OsirisServiceClient extends grpc.Client {
    CallFunction: Unary<m.CallRequest, m.CallResponse>;
}
export interface OsirisServiceHandlers extends grpc.UntypedServiceImplementation {
    CallFunction: grpc.handleUnaryCall<m.CallRequest, Write<m.CallResponse>>;
}
export interface FunctionServiceClient extends grpc.Client {
    Deploy: Unary<m.DeployRequest, m.DeployResponse>;
    GetFunction: Unary<m.GetFunctionRequest, m.FunctionInfo>;
    ListFunctions: Unary<m.ListFunctionsRequest, m.ListFunctionsResponse>;
    DeleteFunction: Unary<m.DeleteFunctionRequest, m.DeleteFunctionResponse>;
}
export interface FunctionServiceHandlers extends grpc.UntypedServiceImplementation {
    Deploy: grpc.handleUnaryCall<m.DeployRequest, Write<m.DeployResponse>>;
    GetFunction: grpc.handleUnaryCall<m.GetFunctionRequest, Write<m.FunctionInfo>>;
    ListFunctions: grpc.handleUnaryCall<m.ListFunctionsRequest, Write<m.ListFunctionsResponse>>;
    DeleteFunction: grpc.handleUnaryCall<m.DeleteFunctionRequest, Write<m.DeleteFunctionResponse>>;
}
export interface HostServiceClient extends grpc.Client {
    Validate: Unary<m.ValidateRequest, m.ValidateResponse>;
    Invoke: Unary<m.InvokeRequest, m.InvokeResponse>;
}
export interface HostServiceHandlers extends grpc.UntypedServiceImplementation {
    Validate: grpc.handleUnaryCall<m.ValidateRequest, Write<m.ValidateResponse>>;
    Invoke: grpc.handleUnaryCall<m.InvokeRequest, Write<m.InvokeResponse>>;
}
/** What a host writes on its Connect stream (one of the three). */
export type HostMessageOut = {
    register: Write<m.RegisterHost>;
} | {
    status: Write<m.HostStatus>;
} | {
    heartbeat: Write<m.Heartbeat>;
};
/** What the controller writes on a host's Connect stream. */
export type ControllerMessageOut = {
    registered: Write<m.Registered>;
} | {
    evict: Write<m.Evict>;
};
export interface HostRegistryClient extends grpc.Client {
    Connect(metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>): grpc.ClientDuplexStream<HostMessageOut, m.ControllerMessage>;
    FetchCode: Unary<m.FetchCodeRequest, m.FetchCodeResponse>;
}
export interface HostRegistryHandlers extends grpc.UntypedServiceImplementation {
    Connect: grpc.handleBidiStreamingCall<m.HostMessage, ControllerMessageOut>;
    FetchCode: grpc.handleUnaryCall<m.FetchCodeRequest, Write<m.FetchCodeResponse>>;
}
export interface HealthClient extends grpc.Client {
    Check: Unary<m.HealthCheckRequest, m.HealthCheckResponse>;
    Watch(request: Write<m.HealthCheckRequest>, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<m.HealthCheckResponse>;
}
export interface HealthHandlers extends grpc.UntypedServiceImplementation {
    Check: grpc.handleUnaryCall<m.HealthCheckRequest, m.HealthCheckResponse>;
    Watch: grpc.handleServerStreamingCall<m.HealthCheckRequest, m.HealthCheckResponse>;
}
interface TypedService<Client extends grpc.Client> {
    new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): Client;
    service: grpc.ServiceDefinition;
    serviceName: string;
}
export declare const OsirisService: TypedService<OsirisServiceClient>;
export declare const FunctionService: TypedService<FunctionServiceClient>;
export declare const HostService: TypedService<HostServiceClient>;
export declare const HostRegistry: TypedService<HostRegistryClient>;
export declare const Health: TypedService<HealthClient>;
export {};
