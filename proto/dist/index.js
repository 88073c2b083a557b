// @osiris/proto: the wire contract every Osiris part shares.
export * from './errors.js';
export * from './grpc-util.js';
export * from './health.js';
export * from './loader.js';
//# sourceMappingURL=index.js.map