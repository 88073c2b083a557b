// @osiris/isolate-host: one process per node running JS/TS functions in V8 isolates.
export type { Executor, ExecutorStatus, InvokeParams, InvokeResult, LogEntry } from './executor.ts'
export { Host, type StartHostOptions } from './host.ts'
export type { HostOptions } from './options.ts'
