import * as grpc from '@grpc/grpc-js';
import type { ServingStatus } from './messages.ts';
export declare class HealthService {
    #private;
    /** `services` start as SERVING; '' is the whole server. */
    constructor(services: readonly string[]);
    set(service: string, status: ServingStatus): void;
    /** Marks every service at once (drain, shutdown). */
    setAll(status: ServingStatus): void;
    addTo(server: grpc.Server): void;
    /** Ends open Watch streams so a server can shut down promptly. */
    close(): void;
}
