// @osiris/controller: the registry, routing, and the client and host APIs.
export { loadTokens, ROLES, type Role } from './auth.ts'
export { Controller } from './controller.ts'
export type { ControllerOptions } from './options.ts'
export { SqliteStore } from './store/sqlite-store.ts'
export type { FunctionRecord, RegistryStore } from './store/store.ts'
