// @osiris/proto: the wire contract every Osiris part shares.
export * from './errors.ts'
export * from './grpc-util.ts'
export * from './health.ts'
export * from './host-key.ts'
export * from './limits.ts'
export * from './loader.ts'
export type * from './messages.ts'
export * from './tls.ts'
