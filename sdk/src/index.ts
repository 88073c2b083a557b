// @osiris/sdk: call Osiris functions from TypeScript and JavaScript.
export {
  type CallStarted,
  type DeployResponse,
  ERROR_CODES,
  type ErrorCode,
  FunctionError,
  type FunctionInfo,
  type GuestError,
  type HostInfo,
  type LogLine,
  OsirisError,
  type Parameter,
} from '@osiris/proto'
export {
  type CallOptions,
  type CallResult,
  type ConnectOptions,
  connect,
  DEFAULT_ADDRESS,
  type DeployOptions,
  OsirisClient,
  type RequestOptions,
} from './client.ts'
