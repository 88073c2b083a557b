// Hosts the controller knows: each registers over HostRegistry.Connect, then
// streams status and heartbeats. A broken stream removes its host at once; a
// host that misses heartbeats for the configured window is removed too, its
// stream ended (so it redials when it wakes) and its in-flight calls aborted.
import { EventEmitter } from 'node:events'
import * as grpc from '@grpc/grpc-js'
import {
  CHANNEL_OPTIONS,
  type ControllerMessageOut,
  type HostMessage,
  HostService,
  type HostServiceClient,
  type HostStatus,
  type LogLine,
  OsirisError,
  type RegisterHost,
  type TlsDial,
  toServiceError,
} from '@osiris/proto'

export type HostState = 'ready' | 'draining' | 'gone'

type HostStream = grpc.ServerDuplexStream<HostMessage, ControllerMessageOut>

export class HostEntry {
  readonly id: string
  readonly address: string
  readonly runtimes: readonly string[]
  readonly capacity: number
  readonly pid: number
  readonly client: HostServiceClient
  readonly connectedAtMs = Date.now()
  state: HostState = 'ready'
  /** Last status the host reported. */
  status: HostStatus = EMPTY_STATUS
  lastSeenMs = Date.now()
  /** Why the host was removed, for the calls it leaves behind. */
  goneReason = ''
  /** Calls dispatched here and not answered yet, per function version (the controller's own count). */
  readonly active = new Map<number, number>()
  /** Most calls of a version in flight here at once since the last status: instances that exist for sure. */
  readonly peak = new Map<number, number>()
  /** Aborted when the host is removed, so its in-flight calls end at once. */
  readonly lost = new AbortController()
  readonly #stream: HostStream

  constructor(info: RegisterHost, stream: HostStream, dial?: TlsDial) {
    this.id = info.hostId
    this.address = info.address
    this.runtimes = info.runtimes
    this.capacity = info.capacity
    this.pid = info.pid
    this.client = dial
      ? new HostService(info.address, dial.credentials, { ...CHANNEL_OPTIONS, ...dial.options })
      : new HostService(info.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS)
    this.#stream = stream
  }

  get dispatched(): number {
    let sum = 0
    for (const n of this.active.values()) sum += n
    return sum
  }

  send(message: ControllerMessageOut): void {
    if (this.state !== 'gone') this.#stream.write(message)
  }

  end(): void {
    this.#stream.end()
  }
}

export interface HostRegistryOptions {
  heartbeatMs: number
  /** A host silent for this long is removed. */
  heartbeatTimeoutMs: number
  /** How to dial the host that registered as `hostId` at `address`. Default: plaintext. */
  dialHost?: (hostId: string, address: string) => TlsDial
}

interface HostEvents {
  added: [HostEntry]
  removed: [HostEntry]
  status: [HostEntry]
  logs: [HostEntry, LogLine[]]
}

const EMPTY_STATUS: HostStatus = {
  poolReady: 0,
  poolTarget: 0,
  inFlight: 0,
  instances: [],
  rssBytes: 0,
  cachedCode: [],
  draining: false,
}

export class HostRegistry extends EventEmitter<HostEvents> {
  readonly #hosts = new Map<string, HostEntry>()
  readonly #options: HostRegistryOptions
  readonly #watchdog: NodeJS.Timeout

  constructor(options: HostRegistryOptions) {
    super()
    this.#options = options
    this.#watchdog = setInterval(() => this.#reap(), Math.max(50, Math.floor(options.heartbeatTimeoutMs / 10)))
    this.#watchdog.unref()
  }

  list(): HostEntry[] {
    return [...this.#hosts.values()]
  }

  /**
   * Handles one host's Connect stream for its whole life. With `certifiedId`
   * (the name in the host's verified certificate), the host may register only
   * under that id.
   */
  connect(stream: HostStream, certifiedId?: string): void {
    let entry: HostEntry | undefined
    stream.on('data', (message: HostMessage) => {
      if (message.message === 'register') {
        const id = message.register.hostId
        if (certifiedId !== undefined && id !== certifiedId) {
          stream.emit(
            'error',
            toServiceError(
              new OsirisError('PERMISSION_DENIED', `this host's certificate is for "${certifiedId}", not "${id}"`),
            ),
          )
          return
        }
        if (!entry) entry = this.#register(message.register, stream)
        return
      }
      if (!entry || entry.state === 'gone') return
      entry.lastSeenMs = Date.now()
      if (message.message === 'status') this.#onStatus(entry, message.status)
      else if (message.message === 'logs') this.emit('logs', entry, message.logs.lines)
    })
    const lost = (why: string) => () => {
      if (entry) this.remove(entry, why)
    }
    stream.on('error', lost('its stream failed'))
    stream.on('cancelled', lost('its stream was cancelled'))
    stream.on('end', () => {
      lost('it disconnected')()
      stream.end()
    })
  }

  #register(info: RegisterHost, stream: HostStream): HostEntry {
    const previous = this.#hosts.get(info.hostId)
    if (previous) this.remove(previous, 'it registered again')
    const entry = new HostEntry(info, stream, this.#options.dialHost?.(info.hostId, info.address))
    this.#hosts.set(entry.id, entry)
    // At least three heartbeats fit in the timeout, so one late beat never drops a host.
    const interval = Math.min(this.#options.heartbeatMs, Math.floor(this.#options.heartbeatTimeoutMs / 3))
    stream.write({ registered: { hostId: entry.id, heartbeatIntervalMs: interval } })
    this.emit('added', entry)
    return entry
  }

  #onStatus(entry: HostEntry, status: HostStatus): void {
    entry.status = status
    entry.peak.clear()
    for (const [version, n] of entry.active) entry.peak.set(version, n)
    if (status.draining && entry.state === 'ready') {
      entry.state = 'draining'
      entry.send({ drainAck: {} })
    }
    this.emit('status', entry)
  }

  /** Removes a host: nothing more is routed to it and its in-flight calls end with UNAVAILABLE. */
  remove(entry: HostEntry, why: string): void {
    if (entry.state === 'gone') return
    entry.state = 'gone'
    entry.goneReason = why
    if (this.#hosts.get(entry.id) === entry) this.#hosts.delete(entry.id)
    entry.lost.abort()
    entry.end()
    entry.client.close()
    this.emit('removed', entry)
  }

  #reap(): void {
    const cutoff = Date.now() - this.#options.heartbeatTimeoutMs
    for (const entry of this.#hosts.values()) {
      if (entry.lastSeenMs < cutoff) {
        this.remove(entry, `it missed heartbeats for ${this.#options.heartbeatTimeoutMs} ms`)
      }
    }
  }

  /** Sends a command to every host still connected. */
  broadcast(message: ControllerMessageOut): void {
    for (const entry of this.#hosts.values()) entry.send(message)
  }

  close(): void {
    clearInterval(this.#watchdog)
    for (const entry of [...this.#hosts.values()]) this.remove(entry, 'the controller is shutting down')
  }
}
