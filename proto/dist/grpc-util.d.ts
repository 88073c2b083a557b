import * as grpc from '@grpc/grpc-js';
export interface CallOptions {
    /** Deadline relative to now, in milliseconds. */
    timeoutMs?: number | undefined;
    signal?: AbortSignal | undefined;
    metadata?: grpc.Metadata | undefined;
}
type UnaryFn<Req, Res> = (request: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;
/** Calls a unary method; rejects with the raw grpc ServiceError. */
export declare function unary<Req, Res>(client: grpc.Client, method: UnaryFn<Req, Res>, request: Req, options?: CallOptions): Promise<Res>;
/** Binds `server` to host:port (port 0 picks a free one); resolves the bound port. */
export declare function bindServer(server: grpc.Server, host: string, port: number): Promise<number>;
/** Graceful shutdown with a grace period, then forced. Idempotent. */
export declare function shutdownServer(server: grpc.Server, graceMs: number): Promise<void>;
/** Splits "host:port" (or "[v6]:port"); throws on anything else. */
export declare function parseAddress(address: string): {
    host: string;
    port: number;
};
/**
 * A unary handler from an async function: its value is the response, and
 * whatever it throws goes through toServiceError.
 */
export declare function handleUnary<Req, Res>(fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res>;
export {};
