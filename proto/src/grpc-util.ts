// Small helpers around grpc-js shared by every part: a promise for unary calls
// with deadline and AbortSignal, and binding a server to host:port.
import * as grpc from '@grpc/grpc-js'
import { toServiceError } from './errors.ts'

export interface CallOptions {
  /** Deadline relative to now, in milliseconds. */
  timeoutMs?: number | undefined
  /** Cancels the call when it (or any of them) aborts; a list avoids a composite AbortSignal.any per call. */
  signal?: AbortSignal | readonly AbortSignal[] | undefined
  metadata?: grpc.Metadata | undefined
  /**
   * Queue the call until the channel is connected (up to its deadline) rather
   * than fail it at once: a call is then only ever put on a connection that
   * is up, and grpc-js's own transparent retry covers a stream the server
   * refused before reading it. Pair with `connected()` to learn beforehand,
   * without sending anything, whether the peer can be reached at all.
   */
  waitForReady?: boolean | undefined
}

type UnaryFn<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: grpc.requestCallback<Res>,
) => grpc.ClientUnaryCall

/** Calls a unary method; rejects with the raw grpc ServiceError. */
export function unary<Req, Res>(
  client: grpc.Client,
  method: UnaryFn<Req, Res>,
  request: Req,
  options: CallOptions = {},
): Promise<Res> {
  const { timeoutMs, signal, metadata = new grpc.Metadata(), waitForReady } = options
  const signals: readonly AbortSignal[] = signal === undefined ? [] : 'aborted' in signal ? [signal] : signal
  for (const s of signals) s.throwIfAborted()
  return new Promise((resolve, reject) => {
    const callOptions: Partial<grpc.CallOptions> = {}
    if (timeoutMs !== undefined) callOptions.deadline = Date.now() + timeoutMs
    // grpc-js reads waitForReady from the metadata's options.
    if (waitForReady) metadata.setOptions({ ...metadata.getOptions(), waitForReady: true })
    const onAbort = (): void => call.cancel()
    // grpc-js makes a `new Error()` per call to append the caller's stack to a
    // failed call's error; capturing that stack (async frames included) costs
    // more than the rest of starting the call. Every error is converted by
    // fromServiceError, which never reads that stack, so none is captured.
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    let call: grpc.ClientUnaryCall
    try {
      call = method.call(client, request, metadata, callOptions, (err, response) => {
        for (const s of signals) s.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve(response as Res)
      })
    } finally {
      Error.stackTraceLimit = stackTraceLimit
    }
    for (const s of signals) s.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Resolves true once `client`'s channel is connected, false when it is not by
 * `deadlineMs` (ms since the epoch) or `signal` aborts first. Sends nothing:
 * a false here proves a call that was never made never reached the peer.
 */
export function connected(client: grpc.Client, deadlineMs: number, signal?: AbortSignal): Promise<boolean> {
  const channel = client.getChannel()
  if (channel.getConnectivityState(true) === grpc.connectivityState.READY) return Promise.resolve(true)
  if (signal?.aborted || deadlineMs <= Date.now()) return Promise.resolve(false)
  return new Promise((resolve) => {
    let done = false
    const finish = (ready: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolve(ready)
    }
    const onAbort = (): void => finish(false)
    const timer = setTimeout(() => finish(false), Math.max(0, deadlineMs - Date.now()))
    signal?.addEventListener('abort', onAbort, { once: true })
    const watch = (): void => {
      if (done) return
      const state = channel.getConnectivityState(true)
      if (state === grpc.connectivityState.READY) finish(true)
      else if (state === grpc.connectivityState.SHUTDOWN) finish(false)
      // An error means the deadline passed with the state unchanged: not connected in time.
      else channel.watchConnectivityState(state, deadlineMs, (error) => (error ? finish(false) : watch()))
    }
    watch()
  })
}

/**
 * Reconnect backoff for channels that must find a restarted peer quickly (a
 * host's link to its controller, the SDK's channel): grpc-js's defaults start
 * at 1 s and grow to 120 s. Attempts here start at 100 ms and are capped at
 * 300 ms, so a peer is reached within about 300 ms of listening again; a
 * refused connection on loopback costs microseconds.
 */
export const RECONNECT_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 300,
}

/**
 * The limits every Osiris gRPC server runs with, set on purpose rather than
 * left to the library's defaults (which are unbounded for streams and
 * connection age):
 *   - messages up to 16 MiB each way (a deploy's source and a call's
 *     arguments have their own, smaller limits in the controller);
 *   - 1,000 concurrent streams per connection (one SDK channel multiplexes
 *     every call of a process; past it, calls wait for a free stream);
 *   - 64 MiB of HTTP/2 session memory per connection (past it, new streams are
 *     refused rather than the process growing);
 *   - a keepalive ping every 30 s with 10 s to answer, so a dead peer (a host
 *     that lost power, a client behind a dropped NAT) is noticed;
 *   - connections idle for 30 minutes are closed;
 *   - channelz off: nothing serves it, and its per-call accounting costs.
 */
export const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.max_send_message_length': 16 * 1024 * 1024,
  'grpc.max_concurrent_streams': 1000,
  'grpc-node.max_session_memory': 64,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.max_connection_idle_ms': 30 * 60_000,
  'grpc.enable_channelz': 0,
}

/** Options for every client channel on the call path: channelz off, as on the servers. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.enable_channelz': 0 }

/** Binds `server` to host:port (port 0 picks a free one); resolves the bound port. */
export function bindServer(
  server: grpc.Server,
  host: string,
  port: number,
  credentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  return new Promise((resolve, reject) => {
    server.bindAsync(target, credentials, (err, bound) => {
      if (err) reject(err)
      else resolve(bound)
    })
  })
}

/** Graceful shutdown with a grace period, then forced. Idempotent. */
export function shutdownServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), graceMs)
    timer.unref()
    server.tryShutdown(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Splits "host:port" (or "[v6]:port"); throws on anything else. */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(address)
  const port = Number(match?.[2])
  if (!match?.[1] || port > 65535) {
    throw new Error(`address must be host:port, got "${address}"`)
  }
  return { host: match[1], port }
}

/**
 * A unary handler from an async function: its value is the response, and
 * whatever it throws goes through toServiceError.
 */
export function handleUnary<Req, Res>(
  fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call))
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error)),
      )
  }
}
