// @osiris/sdk: call Osiris functions from TypeScript and JavaScript.
export {
  ERROR_CODES,
  FunctionError,
  OsirisError,
  type DeployResponse,
  type ErrorCode,
  type FunctionInfo,
  type GuestError,
  type Parameter,
} from '@osiris/proto'
export {
  DEFAULT_ADDRESS,
  OsirisClient,
  connect,
  type CallResult,
  type ConnectOptions,
  type DeployOptions,
  type RequestOptions,
} from './client.ts'
