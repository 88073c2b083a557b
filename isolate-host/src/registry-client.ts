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
    this.#logs.push({ ...entry, hostId: this.#options.register.hostId })
    if (this.#logs.length > LOG_BUFFER_LINES) this.#logs.splice(0, this.#logs.length - LOG_BUFFER_LINES)
    this.#logTimer ??= setTimeout(() => this.#flushLogs(), LOG_FLUSH_MS)
  }

  #flushLogs(): void {
    this.#logTimer = undefined
    if (!this.#registered) {
      if (this.#logs.length > 0) this.#logTimer = setTimeout(() => this.#flushLogs(), LOG_FLUSH_MS * 10)
      return
    }
    const lines = this.#logs.splice(0)
    if (lines.length > 0) this.#write({ logs: { lines } })
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
