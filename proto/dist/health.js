// grpc.health.v1 for every Osiris gRPC server: Check and Watch over a status
// table the owning process updates (NOT_SERVING while draining).
import * as grpc from '@grpc/grpc-js';
import { Health } from './loader.js';
export class HealthService {
    #statuses = new Map();
    #watchers = new Map();
    /** `services` start as SERVING; '' is the whole server. */
    constructor(services) {
        for (const name of ['', ...services])
            this.#statuses.set(name, 'SERVING');
    }
    set(service, status) {
        this.#statuses.set(service, status);
        for (const call of this.#watchers.get(service) ?? [])
            call.write({ status });
    }
    /** Marks every service at once (drain, shutdown). */
    setAll(status) {
        for (const name of this.#statuses.keys())
            this.set(name, status);
    }
    addTo(server) {
        const handlers = {
            Check: (call, callback) => {
                const status = this.#statuses.get(call.request.service);
                if (status === undefined) {
                    callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
                    return;
                }
                callback(null, { status });
            },
            Watch: (call) => {
                const name = call.request.service;
                const set = this.#watchers.get(name) ?? new Set();
                this.#watchers.set(name, set);
                set.add(call);
                call.write({ status: this.#statuses.get(name) ?? 'SERVICE_UNKNOWN' });
                call.on('cancelled', () => set.delete(call));
            },
        };
        server.addService(Health.service, handlers);
    }
    /** Ends open Watch streams so a server can shut down promptly. */
    close() {
        for (const set of this.#watchers.values())
            for (const call of set)
                call.end();
        this.#watchers.clear();
    }
}
//# sourceMappingURL=health.js.map