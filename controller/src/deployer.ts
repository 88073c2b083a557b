// Deploy: check the request, have a host compile the module in a throwaway
// isolate (the controller never runs tenant code), store the code by hash,
// register the new version atomically, and tell hosts to drop old instances.
import {
  type DeployRequest,
  type DeployResponse,
  fromServiceError,
  OsirisError,
  unary,
  type ValidateResponse,
} from '@osiris/proto'
import type { FunctionRegistry } from './function-registry.ts'
import type { HostRegistry } from './host-registry.ts'
import { hostsForRuntime } from './router.ts'
import type { FunctionRecord } from './store/store.ts'

export interface DeployerOptions {
  maxSourceBytes: number
  validateTimeoutMs: number
}

const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/

export class Deployer {
  readonly #functions: FunctionRegistry
  readonly #hosts: HostRegistry
  readonly #options: DeployerOptions

  constructor(functions: FunctionRegistry, hosts: HostRegistry, options: DeployerOptions) {
    this.#functions = functions
    this.#hosts = hosts
    this.#options = options
  }

  #check(request: DeployRequest): void {
    if (!MODULE_NAME.test(request.module)) {
      throw new OsirisError(
        'INVALID_ARGUMENT',
        `module name must be a letter or _ then letters, digits, _ . or - (at most 128), got "${request.module}"`,
      )
    }
    if (!request.runtime) throw new OsirisError('INVALID_ARGUMENT', 'runtime is required (js or ts)')
    const bytes = Buffer.byteLength(request.source)
    if (bytes > this.#options.maxSourceBytes) {
      throw new OsirisError(
        'PAYLOAD_TOO_LARGE',
        `source of module "${request.module}" is ${bytes} bytes; the limit is ${this.#options.maxSourceBytes}`,
      )
    }
    if (request.source.trim() === '') {
      throw new OsirisError('INVALID_ARGUMENT', `source of module "${request.module}" is empty`)
    }
  }

  async deploy(request: DeployRequest): Promise<DeployResponse> {
    this.#check(request)
    const [host] = hostsForRuntime(this.#hosts.list(), request.runtime).sort((a, b) => a.dispatched - b.dispatched)
    if (!host) throw new OsirisError('UNAVAILABLE', `no host can run runtime "${request.runtime}"`)
    const filename = `${request.module}.${request.runtime}`
    let validated: ValidateResponse
    try {
      validated = await unary(
        host.client,
        host.client.Validate,
        { runtime: request.runtime, source: request.source, filename, limits: request.limits },
        { timeoutMs: this.#options.validateTimeoutMs },
      )
    } catch (error) {
      throw fromServiceError(error, `host "${host.id}"`)
    }
    const codeHash = await this.#functions.store.putCode(validated.code)
    const defaultExports = validated.functions.filter((f) => f.defaultExport === true).map((f) => f.name)
    const same = this.#current(request, codeHash, validated)
    if (same) {
      // A re-sent deploy of what is already deployed: the same version, not a new one.
      return {
        version: same[0]?.version ?? 0,
        module: request.module,
        runtime: request.runtime,
        functions: same,
        removed: [],
        defaultExports,
      }
    }
    const outcome = await this.#functions.deploy({
      module: request.module,
      runtime: request.runtime,
      codeHash,
      functions: validated.functions,
      ...(request.limits ? { limits: request.limits } : {}),
      egressAllow: request.egressAllow,
    })
    this.#hosts.broadcast({ evict: { module: request.module, beforeVersion: outcome.version } })
    return {
      version: outcome.version,
      module: request.module,
      runtime: request.runtime,
      functions: outcome.functions,
      removed: outcome.removed,
      defaultExports,
    }
  }

  /**
   * The module's functions when what is deployed now is exactly this request
   * (same code, runtime, functions and parameters, limits and egress), else undefined.
   */
  #current(request: DeployRequest, codeHash: string, validated: ValidateResponse): FunctionRecord[] | undefined {
    const records = this.#functions.list().filter((f) => f.module === request.module)
    if (records.length === 0 || records.length !== validated.functions.length) return undefined
    const limits = (l: DeployRequest['limits']): string =>
      JSON.stringify([l?.timeoutMs ?? 0, l?.cpuMs ?? 0, l?.memoryMb ?? 0])
    const egress = JSON.stringify([...request.egressAllow].sort())
    for (const fn of validated.functions) {
      const record = records.find((r) => r.name === fn.name)
      if (
        !record ||
        record.codeHash !== codeHash ||
        record.runtime !== request.runtime ||
        JSON.stringify(record.params) !== JSON.stringify(fn.params) ||
        limits(record.limits) !== limits(request.limits) ||
        JSON.stringify([...record.egressAllow].sort()) !== egress
      ) {
        return undefined
      }
    }
    return records
  }

  async remove(name: string): Promise<FunctionRecord> {
    const removed = await this.#functions.remove(name)
    if (!this.#functions.hasModule(removed.module)) {
      this.#hosts.broadcast({ evict: { module: removed.module, beforeVersion: 0 } })
    }
    return removed
  }
}
