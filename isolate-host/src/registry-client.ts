// This host's link to the controller: dials HostRegistry.Connect, registers,
// streams its status (coalesced) and heartbeats, obeys commands, and redials
// with backoff whenever the stream breaks (a controller restart, say).
import * as grpc from '@grpc/grpc-js'
import {
  type ControllerMessage,
  type HostMessageOut,
  HostRegistry,
  type HostRegistryClient,
  type HostStatus,
  type LogLine,
  RECONNECT_OPTIONS,
  type RegisterHost,
  type TlsDial,
  unary,
  utf8Prefix,
} from '@osiris/proto'
import type { LogEntry } from './executor.ts'

export interface RegistryClientOptions {
  controller: string
  /** TLS to the controller. Default: plaintext. */
  tls: TlsDial | undefined
  /** Sent as `authorization: Bearer` when set. */
  token: string | undefined
  register: RegisterHost
  status: () => HostStatus
  onEvict: (module: string, beforeVersion: number) => void
  /** The controller has seen this host draining and routes nothing new to it. */
  onDrainAck: () => void
  /** The controller refused this host's credentials (it keeps retrying). */
  onRefused: (message: string) => void
  /**
   * The controller could not be reached (down, or a TLS handshake failed); said
   * once per distinct reason until the host registers again. It keeps retrying.
   */
  onUnreachable?: (message: string) => void
  heartbeatMs: number
  /** Status changes within this window go out as one message. */
  coalesceMs: number
}

/** Function log lines go out in batches at most this far apart, ms. */
const LOG_FLUSH_MS = 50
/** Lines held while the controller is unreachable; older ones are dropped first. */
const LOG_BUFFER_LINES = 1000
/**
 * Bytes of log lines held (while unreachable, or between flushes), older ones
 * dropped first; and most bytes in one batch. A batch stays far under the
 * controller's 16 MiB message limit, past which it would end this host's stream.
 */
export const LOG_BUFFER_BYTES = 8 * 1024 * 1024
export const LOG_BATCH_BYTES = 1024 * 1024
/** Most bytes of one forwarded line's text (a call's budget is at most 1 MiB; this is a backstop). */
const LOG_LINE_BYTES = LOG_BATCH_BYTES - 64 * 1024

/** Wire size of a log line, near enough: its text plus its fields. */
function lineBytes(line: LogLine): number {
  return Buffer.byteLength(line.line) + line.functionName.length + line.module.length + line.callId.length + 64
}

/**
 * Redial backoff. Capped low so a restarted controller is found within a few
 * hundred ms of listening (the channel's own reconnect backoff is capped too,
 * RECONNECT_OPTIONS); a dial to a controller that is down fails locally at
 * once, so trying often costs nothing. A controller refusing this host's
 * credentials is retried far less often.
 */
const BACKOFF_MIN_MS = 50
const BACKOFF_MAX_MS = 100
const REFUSED_BACKOFF_MS = 2000

export class RegistryClient {
  readonly #options: RegistryClientOptions
  readonly #client: HostRegistryClient
  #stream: grpc.ClientDuplexStream<HostMessageOut, ControllerMessage> | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #statusTimer: NodeJS.Timeout | undefined
  #redial: NodeJS.Timeout | undefined
  #backoffMs = BACKOFF_MIN_MS
  #registered = false
  /** The last stream ended with the controller refusing this host's credentials. */
  #refused = false
  /** The last unreachable reason reported, so a retry loop says it once. */
  #unreachable: string | undefined
  #logs: LogLine[] = []
  #logBytes = 0
  /** Lines dropped from the buffer per function since the last flush, said in one marker line each. */
  #logsDropped = new Map<string, { count: number; line: LogLine }>()
  #logTimer: NodeJS.Timeout | undefined
  #waiters: Array<() => void> = []
  #closed = false

  constructor(options: RegistryClientOptions) {
    this.#options = options
    this.#client = options.tls
      ? new HostRegistry(options.controller, options.tls.credentials, { ...RECONNECT_OPTIONS, ...options.tls.options })
      : new HostRegistry(options.controller, grpc.credentials.createInsecure(), RECONNECT_OPTIONS)
    this.#dial()
  }

  get registered(): boolean {
    return this.#registered
  }

  /** Resolves once the controller has acknowledged this host (never, if it closes first). */
  ready(): Promise<void> {
    if (this.#registered) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  fetchCode(codeHash: string, signal: AbortSignal): Promise<string> {
    return unary(
      this.#client,
      this.#client.FetchCode,
      { codeHash },
      { signal, timeoutMs: 10_000, metadata: this.#metadata() },
    ).then((r) => r.code)
  }

  /** Forwards a function's console line to the controller (batched, bounded). */
  log(entry: LogEntry): void {
    const text =
      Buffer.byteLength(entry.line) > LOG_LINE_BYTES
        ? `${utf8Prefix(entry.line, LOG_LINE_BYTES)} … (truncated)`
        : entry.line
    const line = { ...entry, line: text, hostId: this.#options.register.hostId }
    this.#logs.push(line)
    this.#logBytes += lineBytes(line)
    while (this.#logs.length > LOG_BUFFER_LINES || this.#logBytes > LOG_BUFFER_BYTES) {
      const dropped = this.#logs.shift()
      if (!dropped) break
      this.#logBytes -= lineBytes(dropped)
      const seen = this.#logsDropped.get(dropped.functionName)
      if (seen) seen.count++
      else this.#logsDropped.set(dropped.functionName, { count: 1, line: dropped })
    }
    this.#logTimer ??= setTimeout(() => this.#flushLogs(), LOG_FLUSH_MS)
  }

  /** Sends what is buffered in batches of at most LOG_BATCH_BYTES, after a marker line for any dropped. */
  #flushLogs(): void {
    this.#logTimer = undefined
    if (!this.#registered) {
      if (this.#logs.length > 0) this.#logTimer = setTimeout(() => this.#flushLogs(), LOG_FLUSH_MS * 10)
      return
    }
    const markers = [...this.#logsDropped.values()].map(({ count, line }) => ({
      ...line,
      level: 'warn',
      callId: '',
      line: `[osiris] ${count} log lines of "${line.functionName}" dropped on host ${line.hostId}: more were waiting to be sent than it holds`,
    }))
    this.#logsDropped.clear()
    this.#logs.unshift(...markers)
    this.#logBytes += markers.reduce((n, line) => n + lineBytes(line), 0)
    // One batch per flush while the stream keeps up; when its buffer is full, the
    // rest waits here (bounded above) until it drains, rather than pile up in the stream.
    while (this.#logs.length > 0 && this.#stream) {
      let bytes = 0
      let count = 0
      for (const line of this.#logs) {
        const size = lineBytes(line)
        if (count > 0 && bytes + size > LOG_BATCH_BYTES) break
        bytes += size
        count++
      }
      const batch = this.#logs.splice(0, count)
      this.#logBytes -= bytes
      if (!this.#stream.write({ logs: { lines: batch } })) {
        const stream = this.#stream
        stream.once('drain', () => {
          if (stream === this.#stream) this.#logTimer ??= setTimeout(() => this.#flushLogs(), 0)
        })
        return
      }
    }
  }

  /** Sends the current status now (a state change the controller must see at once). */
  sendStatusNow(): void {
    clearTimeout(this.#statusTimer)
    this.#statusTimer = undefined
    this.#write({ status: this.#options.status() })
  }

  /** Sends the current status soon, folding bursts of changes into one message. */
  statusChanged(): void {
    if (this.#statusTimer || !this.#registered) return
    this.#statusTimer = setTimeout(() => {
      this.#statusTimer = undefined
      this.#write({ status: this.#options.status() })
    }, this.#options.coalesceMs)
  }

  #dial(): void {
    if (this.#closed) return
    const stream = this.#client.Connect(this.#metadata())
    this.#stream = stream
    stream.on('data', (message: ControllerMessage) => this.#onMessage(message))
    // The call's status arrives however it ends: the controller went away,
    // ended the stream (it dropped this host), or the connection failed.
    stream.on('error', () => {})
    stream.on('status', (status: grpc.StatusObject) => {
      if (status.code === grpc.status.UNAUTHENTICATED || status.code === grpc.status.PERMISSION_DENIED) {
        this.#refused = true
        this.#options.onRefused(status.details)
      } else if (status.code === grpc.status.UNAVAILABLE && !this.#registered && status.details !== this.#unreachable) {
        this.#unreachable = status.details
        this.#options.onUnreachable?.(status.details)
      }
      this.#lost(stream)
    })
    stream.on('close', () => this.#lost(stream))
    stream.write({ register: this.#options.register })
  }

  #metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata()
    if (this.#options.token) metadata.set('authorization', `Bearer ${this.#options.token}`)
    return metadata
  }

  #onMessage(message: ControllerMessage): void {
    if (message.message === 'registered') {
      this.#registered = true
      this.#unreachable = undefined
      this.#backoffMs = BACKOFF_MIN_MS
      this.#write({ status: this.#options.status() })
      clearInterval(this.#heartbeat)
      const every = message.registered.heartbeatIntervalMs || this.#options.heartbeatMs
      this.#heartbeat = setInterval(() => this.#write({ heartbeat: { sentAtMs: Date.now() } }), every)
      for (const resolve of this.#waiters.splice(0)) resolve()
      if (this.#logs.length > 0) this.#logTimer ??= setTimeout(() => this.#flushLogs(), LOG_FLUSH_MS)
    } else if (message.message === 'evict') {
      this.#options.onEvict(message.evict.module, message.evict.beforeVersion)
    } else if (message.message === 'drainAck') {
      this.#options.onDrainAck()
    }
  }

  #write(message: HostMessageOut): void {
    if (this.#stream && this.#registered) this.#stream.write(message)
  }

  #lost(stream: grpc.ClientDuplexStream<HostMessageOut, ControllerMessage>): void {
    if (stream !== this.#stream) return
    this.#stream = undefined
    this.#registered = false
    clearInterval(this.#heartbeat)
    if (this.#closed) return
    const waitMs = this.#refused ? REFUSED_BACKOFF_MS : this.#backoffMs
    this.#refused = false
    this.#redial = setTimeout(() => this.#dial(), waitMs)
    this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_MAX_MS)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#heartbeat)
    clearTimeout(this.#statusTimer)
    clearTimeout(this.#logTimer)
    this.#flushLogs()
    clearTimeout(this.#logTimer)
    clearTimeout(this.#redial)
    this.#stream?.end()
    this.#stream?.cancel()
    this.#client.close()
  }
}
