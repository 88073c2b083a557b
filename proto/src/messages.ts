// TypeScript shapes of the osiris.v1 messages as proto-loader decodes them
// (camelCase fields, 64-bit integers as numbers, defaults filled in, oneof
// name set). Kept beside the .proto files they mirror; a test round-trips each.

export interface CallRequest {
  functionName: string
  args: string[]
  callId: string
}

export interface CallResponse {
  result: string
  version: number
  callId: string
  hostId: string
  coldStart: boolean
  hostDurationUs: number
  queuedUs: number
  totalUs: number
  routeUs: number
  codeFetchUs: number
  startUs: number
  executionUs: number
}

export interface Parameter {
  name: string
  optional: boolean
  rest: boolean
}

/** Per-function limits; 0 means the platform default. */
export interface FunctionLimits {
  timeoutMs: number
  cpuMs: number
  memoryMb: number
}

export interface FunctionInfo {
  name: string
  module: string
  runtime: string
  version: number
  params: Parameter[]
  deployedAtMs: number
  codeHash: string
  limits: FunctionLimits | null
  egressAllow: string[]
}

export interface DeployRequest {
  module: string
  runtime: string
  source: string
  limits: FunctionLimits | null
  egressAllow: string[]
}

export interface DeployResponse {
  version: number
  module: string
  runtime: string
  functions: FunctionInfo[]
  removed: string[]
  /** Functions registered from the module's default export (under their own names). */
  defaultExports: string[]
}

export interface GetFunctionRequest {
  name: string
}

export type ListFunctionsRequest = Record<string, never>

export interface ListFunctionsResponse {
  functions: FunctionInfo[]
}

export interface DeleteFunctionRequest {
  name: string
}

export interface DeleteFunctionResponse {
  function: FunctionInfo | null
}

export interface ValidateRequest {
  runtime: string
  source: string
  filename: string
  limits: FunctionLimits | null
}

export interface FunctionSignature {
  name: string
  params: Parameter[]
  /** Registered from the module's default export, under the function's own name. */
  defaultExport?: boolean
}

export interface ValidateResponse {
  code: string
  functions: FunctionSignature[]
}

export interface InvokeRequest {
  callId: string
  functionName: string
  version: number
  runtime: string
  codeHash: string
  args: string[]
  module: string
  timeoutMs: number
  limits: FunctionLimits | null
  egressAllow: string[]
}

export interface CancelRequest {
  callId: string
}

export interface CancelResponse {
  stopped: boolean
}

export interface InvokeResponse {
  result: string
  coldStart: boolean
  durationUs: number
  codeFetchUs: number
  startUs: number
  executionUs: number
}

export interface RegisterHost {
  hostId: string
  address: string
  runtimes: string[]
  capacity: number
  pid: number
  /** Secret the controller presents on every HostService call (host-key.ts); never shown by any API. */
  callKey: string
}

export interface InstanceStatus {
  module: string
  version: number
  busy: number
  idle: number
}

export interface HostStatus {
  poolReady: number
  poolTarget: number
  inFlight: number
  instances: InstanceStatus[]
  rssBytes: number
  cachedCode: string[]
  draining: boolean
}

export interface Heartbeat {
  sentAtMs: number
}

export interface TailLogsRequest {
  name: string
  follow: boolean
  limit: number
}

export interface LogLine {
  timeMs: number
  level: string
  functionName: string
  module: string
  version: number
  callId: string
  line: string
  hostId: string
}

export interface LogBatch {
  lines: LogLine[]
}

export type HostMessage =
  | { message: 'register'; register: RegisterHost }
  | { message: 'status'; status: HostStatus }
  | { message: 'heartbeat'; heartbeat: Heartbeat }
  | { message: 'logs'; logs: LogBatch }

export interface Registered {
  hostId: string
  heartbeatIntervalMs: number
}

export interface Evict {
  module: string
  beforeVersion: number
}

export type ControllerMessage =
  | { message: 'registered'; registered: Registered }
  | { message: 'evict'; evict: Evict }
  | { message: 'drainAck'; drainAck: Record<string, never> }

export interface FetchCodeRequest {
  codeHash: string
}

export interface FetchCodeResponse {
  code: string
}

export type ListHostsRequest = Record<string, never>

export interface HostInfo {
  hostId: string
  address: string
  state: string
  runtimes: string[]
  poolReady: number
  poolTarget: number
  instances: number
  busy: number
  inFlight: number
  capacity: number
  rssBytes: number
  pid: number
  connectedAtMs: number
}

export interface ListHostsResponse {
  hosts: HostInfo[]
}

export interface HealthCheckRequest {
  service: string
}

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN'

export interface HealthCheckResponse {
  status: ServingStatus
}
