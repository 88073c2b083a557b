// The one place the .proto files are loaded. Every part gets its service
// definitions, typed client constructors and handler types from here.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
/** Folder holding `osiris/v1/*.proto` and `grpc/health/v1/health.proto`. */
export const PROTO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const PROTO_FILES = [
    'osiris/v1/osiris.proto',
    'osiris/v1/functions.proto',
    'osiris/v1/host.proto',
    'osiris/v1/registry.proto',
    'grpc/health/v1/health.proto',
];
/** Decoding options every part uses; messages.ts mirrors them. */
export const LOADER_OPTIONS = {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [PROTO_ROOT],
};
const definition = protoLoader.loadSync([...PROTO_FILES], LOADER_OPTIONS);
function service(name) {
    const def = definition[name];
    if (def === undefined || 'format' in def) {
        throw new Error(`service ${name} is missing from the proto files`);
    }
    return grpc.makeClientConstructor(def, name);
}
function typed(name) {
    return service(name);
}
export const OsirisService = typed('osiris.v1.OsirisService');
export const FunctionService = typed('osiris.v1.FunctionService');
export const HostService = typed('osiris.v1.HostService');
export const HostRegistry = typed('osiris.v1.HostRegistry');
export const Health = typed('grpc.health.v1.Health');
//# sourceMappingURL=loader.js.map