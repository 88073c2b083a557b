// Small helpers around grpc-js shared by every part: a promise for unary calls
// with deadline and AbortSignal, and binding a server to host:port.
import * as grpc from '@grpc/grpc-js';
import { toServiceError } from './errors.js';
/** Calls a unary method; rejects with the raw grpc ServiceError. */
export function unary(client, method, request, options = {}) {
    const { timeoutMs, signal, metadata = new grpc.Metadata() } = options;
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
        const callOptions = {};
        if (timeoutMs !== undefined)
            callOptions.deadline = Date.now() + timeoutMs;
        const onAbort = () => call.cancel();
        const call = method.call(client, request, metadata, callOptions, (err, response) => {
            signal?.removeEventListener('abort', onAbort);
            if (err)
                reject(err);
            else
                resolve(response);
        });
        signal?.addEventListener('abort', onAbort, { once: true });
    });
}
/** Binds `server` to host:port (port 0 picks a free one); resolves the bound port. */
export function bindServer(server, host, port) {
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
        server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, bound) => {
            if (err)
                reject(err);
            else
                resolve(bound);
        });
    });
}
/** Graceful shutdown with a grace period, then forced. Idempotent. */
export function shutdownServer(server, graceMs) {
    return new Promise((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        timer.unref();
        server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
        });
    });
}
/** Splits "host:port" (or "[v6]:port"); throws on anything else. */
export function parseAddress(address) {
    const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(address);
    const port = Number(match?.[2]);
    if (!match || !match[1] || port > 65535) {
        throw new Error(`address must be host:port, got "${address}"`);
    }
    return { host: match[1], port };
}
/**
 * A unary handler from an async function: its value is the response, and
 * whatever it throws goes through toServiceError.
 */
export function handleUnary(fn) {
    return (call, callback) => {
        Promise.resolve()
            .then(() => fn(call))
            .then((response) => callback(null, response), (error) => callback(toServiceError(error)));
    };
}
//# sourceMappingURL=grpc-util.js.map