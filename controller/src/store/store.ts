// The registry store: where deployed functions and their code live. The
// embedded backend is sqlite + a blob directory; a distributed backend (etcd)
// implements the same interface and passes the same suite (store.case.ts).
import type { FunctionLimits, FunctionSignature, Parameter } from '@osiris/proto'

export interface FunctionRecord {
  name: string
  module: string
  runtime: string
  version: number
  params: Parameter[]
  deployedAtMs: number
  codeHash: string
  /** As deployed; 0 means the platform default. */
  limits: FunctionLimits
  egressAllow: string[]
}

export interface NewDeployment {
  module: string
  runtime: string
  codeHash: string
  functions: FunctionSignature[]
  /** Omitted: platform defaults, no extra egress. */
  limits?: FunctionLimits
  egressAllow?: string[]
}

export interface DeployOutcome {
  version: number
  functions: FunctionRecord[]
  /** Functions the module's previous version had and this one does not. */
  removed: string[]
}

export interface RegistryStore {
  /** Stores code by content hash (sha256, hex); writing the same code twice is a no-op. */
  putCode(code: string): Promise<string>
  getCode(hash: string): Promise<string | undefined>
  /**
   * Registers a new version of a module atomically: its functions point at the
   * new version, and names it no longer exports are dropped. Rejects with
   * INVALID_ARGUMENT when a name belongs to another module.
   */
  deploy(deployment: NewDeployment): Promise<DeployOutcome>
  listFunctions(): Promise<FunctionRecord[]>
  /** Removes one function name; resolves what was removed, if anything. */
  deleteFunction(name: string): Promise<FunctionRecord | undefined>
  close(): Promise<void>
}
