// The call path: look the function up, check its arguments, pick a host, and
// invoke it there within the caller's deadline.
import { randomUUID } from 'node:crypto'
import { type CallResponse, fromServiceError, unary } from '@osiris/proto'
import { checkArguments } from './arguments.ts'
import type { FunctionRegistry } from './function-registry.ts'
import type { HostRegistry } from './host-registry.ts'
import { pickHost } from './router.ts'

export interface CallOptions {
  callId?: string | undefined
  /** Absolute deadline, ms since the epoch; Infinity for none. */
  deadlineMs?: number | undefined
  signal?: AbortSignal | undefined
}

export interface DispatcherOptions {
  /** Wall-clock limit of a call when the caller sets none shorter, ms. */
  callTimeoutMs: number
  maxArgumentBytes: number
}

export class Dispatcher {
  readonly #functions: FunctionRegistry
  readonly #hosts: HostRegistry
  readonly #options: DispatcherOptions

  constructor(functions: FunctionRegistry, hosts: HostRegistry, options: DispatcherOptions) {
    this.#functions = functions
    this.#hosts = hosts
    this.#options = options
  }

  async call(name: string, args: string[], options: CallOptions = {}): Promise<CallResponse> {
    const fn = this.#functions.get(name)
    checkArguments(name, fn.params, args, this.#options.maxArgumentBytes)
    const callId = options.callId || randomUUID()
    const remaining = (options.deadlineMs ?? Number.POSITIVE_INFINITY) - Date.now()
    const timeoutMs = Math.max(1, Math.min(this.#options.callTimeoutMs, remaining))
    const host = pickHost(this.#hosts.list(), fn)
    host.dispatched++
    try {
      const response = await unary(
        host.client,
        host.client.Invoke,
        {
          callId,
          functionName: name,
          module: fn.module,
          version: fn.version,
          runtime: fn.runtime,
          codeHash: fn.codeHash,
          args,
          timeoutMs,
        },
        // The host enforces timeoutMs itself; the slack lets its answer arrive.
        { timeoutMs: timeoutMs + 1000, signal: options.signal },
      )
      return {
        result: response.result,
        version: fn.version,
        callId,
        hostId: host.id,
        coldStart: response.coldStart,
        hostDurationUs: response.durationUs,
      }
    } catch (error) {
      throw fromServiceError(error, `host "${host.id}"`)
    } finally {
      host.dispatched--
    }
  }
}
