import * as grpc from '@grpc/grpc-js';
/**
 * Stable codes. Each maps to one gRPC status and one HTTP status (DESIGN.md's
 * error table); the code itself travels in the `osiris-code` trailer so a
 * client can tell, say, a syntax error from a wrong argument.
 */
export declare const ERROR_CODES: {
    readonly NOT_FOUND: {
        readonly grpc: grpc.status.NOT_FOUND;
        readonly http: 404;
    };
    readonly INVALID_ARGUMENT: {
        readonly grpc: grpc.status.INVALID_ARGUMENT;
        readonly http: 400;
    };
    readonly COMPILE_ERROR: {
        readonly grpc: grpc.status.INVALID_ARGUMENT;
        readonly http: 400;
    };
    readonly FUNCTION_ERROR: {
        readonly grpc: grpc.status.UNKNOWN;
        readonly http: 500;
    };
    readonly RESULT_NOT_JSON: {
        readonly grpc: grpc.status.UNKNOWN;
        readonly http: 500;
    };
    readonly DEADLINE_EXCEEDED: {
        readonly grpc: grpc.status.DEADLINE_EXCEEDED;
        readonly http: 504;
    };
    readonly RESOURCE_EXHAUSTED: {
        readonly grpc: grpc.status.RESOURCE_EXHAUSTED;
        readonly http: 429;
    };
    readonly PAYLOAD_TOO_LARGE: {
        readonly grpc: grpc.status.RESOURCE_EXHAUSTED;
        readonly http: 413;
    };
    readonly UNAVAILABLE: {
        readonly grpc: grpc.status.UNAVAILABLE;
        readonly http: 503;
    };
    readonly UNAUTHENTICATED: {
        readonly grpc: grpc.status.UNAUTHENTICATED;
        readonly http: 401;
    };
    readonly PERMISSION_DENIED: {
        readonly grpc: grpc.status.PERMISSION_DENIED;
        readonly http: 403;
    };
    readonly CANCELLED: {
        readonly grpc: grpc.status.CANCELLED;
        readonly http: 499;
    };
    readonly CLOSED: {
        readonly grpc: grpc.status.UNAVAILABLE;
        readonly http: 503;
    };
    readonly INTERNAL: {
        readonly grpc: grpc.status.INTERNAL;
        readonly http: 500;
    };
};
export type ErrorCode = keyof typeof ERROR_CODES;
/** What a function threw, as seen inside its isolate. */
export interface GuestError {
    name: string;
    message: string;
    stack: string;
}
export declare class OsirisError extends Error {
    readonly code: ErrorCode;
    constructor(code: ErrorCode, message: string, options?: ErrorOptions);
    get name(): string;
}
/** The called function threw; `guest` holds its own name, message and stack. */
export declare class FunctionError extends OsirisError {
    readonly guest: GuestError;
    constructor(message: string, guest: GuestError);
    get name(): string;
}
export declare function isErrorCode(value: string): value is ErrorCode;
/** Domain error (or anything thrown) → the status a gRPC handler answers with. */
export declare function toServiceError(error: unknown): Partial<grpc.StatusObject>;
/**
 * A failed gRPC call → the domain error it stands for. `peer` names the other
 * end in messages when the failure came from the transport rather than from
 * an Osiris server (which always sends its code).
 */
export declare function fromServiceError(error: unknown, peer?: string): OsirisError;
