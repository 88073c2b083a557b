// The Osiris client: one channel to the controller, shared by the call and
// function-management services. Failures reject with OsirisError (stable
// `code`) or its subclass FunctionError (what the function threw).
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import {
  type CallResponse,
  CHANNEL_OPTIONS,
  ClusterService,
  type ClusterServiceClient,
  connected,
  type DeployResponse,
  dialTls,
  type FunctionInfo,
  FunctionService,
  type FunctionServiceClient,
  fromSentCall,
  fromServiceError,
  type HostInfo,
  LIMIT_BOUNDS,
  type LogLine,
  NotJsonError,
  nestingDepth,
  notStarted,
  OsirisError,
  OsirisService,
  type OsirisServiceClient,
  RECONNECT_OPTIONS,
  type TlsDial,
  toJson,
  unary,
} from '@osiris/proto'

export const DEFAULT_ADDRESS = '127.0.0.1:50051'

/**
 * A call's result as the value it encodes. An answer no Osiris host sends
 * (not JSON, or nesting deeper than any function's limit allows: 1024) is
 * RESULT_NOT_JSON, never a bare SyntaxError: whatever answered is not trusted
 * to be well-formed.
 */
function readResult(name: string, json: string): unknown {
  const maxDepth = LIMIT_BOUNDS.maxResultDepth.max
  if (nestingDepth(json, maxDepth) > maxDepth) {
    throw new OsirisError('RESULT_NOT_JSON', `the result of "${name}" nests deeper than ${maxDepth} levels`)
  }
  try {
    return JSON.parse(json)
  } catch (error) {
    const why = error instanceof Error ? error.message.slice(0, 200) : String(error)
    throw new OsirisError('RESULT_NOT_JSON', `the result of "${name}" is not JSON (${why})`)
  }
}

/** How long a request waits for the controller to be reachable when the caller set no deadline, ms. */
const DEFAULT_CONNECT_WINDOW_MS = 2000
/** Backoff between attempts of a request a server refused before starting it, ms. */
const RETRY_MIN_MS = 50
const RETRY_MAX_MS = 200

export interface ConnectOptions {
  /** Deadline applied to every request unless the call sets its own, ms. Default: none (the server's limit applies). */
  timeoutMs?: number
  /**
   * TLS: the CA certificate (PEM) the controller's certificate must chain to,
   * e.g. the ca.pem of `osiris certs init`. Default: the file named by
   * $OSIRIS_CA, else plaintext (for loopback and trusted networks).
   */
  ca?: string | Buffer
  /**
   * With TLS, a client certificate and its key (PEM) to present, e.g. from
   * `osiris certs client NAME --role invoke`: the controller takes its role as
   * credentials when no token is sent. Default: the files $OSIRIS_CERT and
   * $OSIRIS_KEY name.
   */
  cert?: string | Buffer
  key?: string | Buffer
  /** Channel credentials of your own; they win over `ca`, `cert` and `key`. */
  credentials?: grpc.ChannelCredentials
  /** API token sent as `authorization: Bearer` on every request. Default: $OSIRIS_TOKEN. */
  token?: string
}

export interface RequestOptions {
  /** Deadline for this request, ms. */
  timeoutMs?: number
  /** Aborting cancels the request; it rejects with code CANCELLED. */
  signal?: AbortSignal
}

/** Options of `call()`. */
export interface CallOptions extends RequestOptions {
  /**
   * The call's id (default: a random UUID). It travels to the host that runs
   * the call, which refuses to run an id it has already seen; it names the
   * call in logs and in `CallResult.callId`.
   */
  callId?: string
}

/**
 * A call's value, with where it ran and where its time went (µs: queued,
 * routed, code fetch, start, execution, on the host, total), as CallResponse
 * carries them.
 */
export interface CallResult<T> extends Omit<CallResponse, 'result'> {
  value: T
  /** The result exactly as the function's JSON encoding produced it. */
  json: string
}

export interface DeployOptions {
  /** Module name; redeploying the same module replaces its functions. */
  module: string
  /** 'js', 'ts', or a container runtime such as 'python'. */
  runtime: string
  /** Per-function limits (omitted: the platform defaults): wall clock and CPU in ms, heap in MiB. */
  limits?: { timeoutMs?: number; cpuMs?: number; memoryMb?: number }
  /** Hosts the module's fetch may reach besides public addresses. */
  egressAllow?: string[]
}

/** `given` as a Buffer, else the file environment variable `name` names, else undefined. */
function pem(given: string | Buffer | undefined, name: string, what: string): Buffer | undefined {
  if (given !== undefined) return Buffer.from(given)
  const file = process.env[name]
  if (!file) return undefined
  try {
    return readFileSync(file)
  } catch (error) {
    throw new OsirisError('INVALID_ARGUMENT', `cannot read the ${what} ${name}=${file}: ${(error as Error).message}`)
  }
}

/** TLS with the CA (`ca` or $OSIRIS_CA) and the client certificate if any; no CA: plaintext (undefined). */
function tlsFor(address: string, options: ConnectOptions): TlsDial | undefined {
  const ca = pem(options.ca, 'OSIRIS_CA', 'CA certificate')
  const cert = pem(options.cert, 'OSIRIS_CERT', 'client certificate')
  const key = pem(options.key, 'OSIRIS_KEY', 'client key')
  if ((cert === undefined) !== (key === undefined)) {
    throw new OsirisError('INVALID_ARGUMENT', 'a client certificate needs its key, and a key its certificate')
  }
  if (ca === undefined) {
    if (cert !== undefined) {
      throw new OsirisError('INVALID_ARGUMENT', 'a client certificate needs TLS: give the CA too (ca or OSIRIS_CA)')
    }
    return undefined
  }
  return dialTls(address, { ca, cert, key })
}

/**
 * Each argument as JSON text, by the rules results follow (proto's json-value.ts):
 * a value JSON would lose (a Map, NaN, a function…) is INVALID_ARGUMENT naming it
 * (`args[0].counts is a Map`). Trailing undefined arguments are left out, so the
 * function's defaults apply as if they were never passed; an undefined before a
 * defined one cannot be sent.
 */
function encodeArguments(name: string, args: readonly unknown[]): string[] {
  let count = args.length
  while (count > 0 && args[count - 1] === undefined) count--
  const encoded: string[] = []
  for (let i = 0; i < count; i++) {
    let json: string | undefined
    try {
      json = toJson(args[i], `args[${i}]`)
    } catch (error) {
      const why = error instanceof NotJsonError ? error.message : `it threw ${(error as Error).message}`
      throw new OsirisError('INVALID_ARGUMENT', `argument ${i + 1} of "${name}" cannot be encoded as JSON: ${why}`)
    }
    if (json === undefined) {
      throw new OsirisError(
        'INVALID_ARGUMENT',
        `argument ${i + 1} of "${name}" cannot be encoded as JSON: args[${i}] is undefined (pass null, or leave trailing arguments out)`,
      )
    }
    encoded.push(json)
  }
  return encoded
}

export class OsirisClient {
  readonly address: string
  readonly #calls: OsirisServiceClient
  readonly #functions: FunctionServiceClient
  readonly #cluster: ClusterServiceClient
  readonly #timeoutMs: number | undefined
  readonly #token: string | undefined
  #closed = false

  constructor(address: string, options: ConnectOptions = {}) {
    this.address = address
    this.#timeoutMs = options.timeoutMs
    this.#token = options.token ?? (process.env.OSIRIS_TOKEN || undefined)
    const tls = options.credentials ? undefined : tlsFor(address, options)
    const credentials = options.credentials ?? tls?.credentials ?? grpc.credentials.createInsecure()
    this.#calls = new OsirisService(address, credentials, {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      ...CHANNEL_OPTIONS,
      ...RECONNECT_OPTIONS,
      ...tls?.options,
    })
    this.#functions = new FunctionService(address, credentials, { channelOverride: this.#calls.getChannel() })
    this.#cluster = new ClusterService(address, credentials, { channelOverride: this.#calls.getChannel() })
  }

  async #request<Req, Res>(
    client: grpc.Client,
    method: (
      r: Req,
      m: grpc.Metadata,
      o: Partial<grpc.CallOptions>,
      cb: grpc.requestCallback<Res>,
    ) => grpc.ClientUnaryCall,
    request: Req,
    options: RequestOptions = {},
  ): Promise<Res> {
    if (this.#closed) throw new OsirisError('CLOSED', 'this Osiris client is closed')
    const metadata = new grpc.Metadata()
    if (this.#token) metadata.set('authorization', `Bearer ${this.#token}`)
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs
    const startedMs = Date.now()
    // A request goes out only once the channel is connected (a restarting
    // controller is waited for, within the deadline), and with waitForReady,
    // so grpc-js never fails it for want of a connection. What fails after
    // it went out may have run: `started = 'maybe'`, never sent again here.
    const connectBy = startedMs + (timeoutMs ?? DEFAULT_CONNECT_WINDOW_MS)
    if (!(await connected(client, connectBy, options.signal))) {
      if (options.signal?.aborted) throw notStarted('CANCELLED', 'the request was cancelled before it was sent')
      if (this.#closed) throw new OsirisError('CLOSED', 'this Osiris client is closed')
      throw notStarted(
        'UNAVAILABLE',
        `controller ${this.address}: not reachable within ${connectBy - startedMs} ms; the request was not sent`,
      )
    }
    // A server that refused the request before starting it (`started = 'never'`,
    // say a controller shutting down) is asked again, within the deadline.
    for (let backoffMs = RETRY_MIN_MS; ; backoffMs = Math.min(backoffMs * 2, RETRY_MAX_MS)) {
      const remaining = timeoutMs === undefined ? undefined : Math.max(1, startedMs + timeoutMs - Date.now())
      if (options.signal?.aborted) throw notStarted('CANCELLED', 'the request was cancelled before it was sent')
      let failure: OsirisError
      try {
        return await unary(client, method, request, {
          timeoutMs: remaining,
          signal: options.signal,
          metadata,
          waitForReady: true,
        })
      } catch (error) {
        failure = fromSentCall(error, `controller ${this.address}`)
      }
      const retry =
        failure.started === 'never' &&
        failure.code !== 'CANCELLED' &&
        !options.signal?.aborted &&
        !this.#closed &&
        Date.now() + backoffMs < connectBy
      if (!retry) throw failure
      await new Promise((resolve) => setTimeout(resolve, backoffMs))
    }
  }

  /** Calls a function with plain arguments and resolves what it returned: `callFunction('addNumbers', 3, 5)`. */
  async callFunction<T = unknown>(name: string, ...args: unknown[]): Promise<T> {
    return (await this.call<T>(name, args)).value
  }

  /** Calls a function with a deadline or AbortSignal, and resolves the result with where it ran. */
  async call<T = unknown>(name: string, args: readonly unknown[], options: CallOptions = {}): Promise<CallResult<T>> {
    const request = { functionName: name, args: encodeArguments(name, args), callId: options.callId ?? randomUUID() }
    const response = await this.#request(this.#calls, this.#calls.CallFunction, request, options)
    const { result, ...where } = response
    return { value: readResult(name, result) as T, json: result, ...where }
  }

  /** Deploys one module's source; every function it exports is registered under a new version. */
  deploy(source: string, options: DeployOptions, request: RequestOptions = {}): Promise<DeployResponse> {
    const { timeoutMs = 0, cpuMs = 0, memoryMb = 0 } = options.limits ?? {}
    const body = {
      source,
      module: options.module,
      runtime: options.runtime,
      limits: { timeoutMs, cpuMs, memoryMb },
      egressAllow: options.egressAllow ?? [],
    }
    return this.#request(this.#functions, this.#functions.Deploy, body, request)
  }

  get(name: string, options?: RequestOptions): Promise<FunctionInfo> {
    return this.#request(this.#functions, this.#functions.GetFunction, { name }, options)
  }

  async list(options?: RequestOptions): Promise<FunctionInfo[]> {
    return (await this.#request(this.#functions, this.#functions.ListFunctions, {}, options)).functions
  }

  /** Removes a function; calls to it then fail with NOT_FOUND. Resolves what was removed. */
  async remove(name: string, options?: RequestOptions): Promise<FunctionInfo> {
    const response = await this.#request(this.#functions, this.#functions.DeleteFunction, { name }, options)
    if (!response.function) throw new OsirisError('INTERNAL', `controller did not say what it removed for "${name}"`)
    return response.function
  }

  /**
   * A function's recent console output, oldest first; with `follow`, then each
   * new line as it is printed, until the loop breaks or `signal` aborts.
   */
  async *logs(
    name: string,
    options: { follow?: boolean; limit?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<LogLine> {
    if (this.#closed) throw new OsirisError('CLOSED', 'this Osiris client is closed')
    const metadata = new grpc.Metadata()
    if (this.#token) metadata.set('authorization', `Bearer ${this.#token}`)
    const call = this.#functions.TailLogs(
      { name, follow: options.follow ?? false, limit: options.limit ?? 0 },
      metadata,
    )
    const cancel = (): void => call.cancel()
    options.signal?.addEventListener('abort', cancel, { once: true })
    try {
      for await (const line of call) yield line as LogLine
    } catch (error) {
      if (options.signal?.aborted) return
      throw fromServiceError(error, `controller ${this.address}`)
    } finally {
      options.signal?.removeEventListener('abort', cancel)
      call.cancel()
    }
  }

  /** The hosts the controller knows, with their state, pool, instances and load. */
  async hosts(options?: RequestOptions): Promise<HostInfo[]> {
    return (await this.#request(this.#cluster, this.#cluster.ListHosts, {}, options)).hosts
  }

  /** Closes the channel. Idempotent; requests after it reject with code CLOSED. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#functions.close()
    this.#cluster.close()
    this.#calls.close()
  }
}

/** Connects to the controller at `address` (default OSIRIS_ADDR, else 127.0.0.1:50051). */
export function connect(address?: string, options?: ConnectOptions): OsirisClient {
  return new OsirisClient(address ?? process.env.OSIRIS_ADDR ?? DEFAULT_ADDRESS, options)
}
