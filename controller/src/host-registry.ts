// Hosts the controller knows: each registers over HostRegistry.Connect, then
// streams status and heartbeats. A broken stream removes its host at once;
// a host that misses heartbeats for the configured window is removed too.
import { EventEmitter } from 'node:events'
import * as grpc from '@grpc/grpc-js'
import {
  type ControllerMessageOut,
  type HostMessage,
  HostService,
  type HostServiceClient,
  type HostStatus,
  type RegisterHost,
} from '@osiris/proto'

export type HostState = 'ready' | 'gone'

export interface HostEntry {
  readonly id: string
  readonly address: string
  readonly runtimes: readonly string[]
  readonly capacity: number
  readonly pid: number
  readonly client: HostServiceClient
  readonly connectedAtMs: number
  state: HostState
  /** Last status the host reported. */
  status: HostStatus
  /** Calls dispatched to it and not answered yet, as the controller counts them. */
  dispatched: number
  lastSeenMs: number
  send(message: ControllerMessageOut): void
}

export interface HostRegistryOptions {
  heartbeatMs: number
  /** A host silent for this long is removed. */
  heartbeatTimeoutMs: number
}

interface HostEvents {
  added: [HostEntry]
  removed: [HostEntry]
  status: [HostEntry]
}

const EMPTY_STATUS: HostStatus = {
  poolReady: 0,
  poolTarget: 0,
  inFlight: 0,
  instances: [],
  rssBytes: 0,
  cachedCode: [],
}

export class HostRegistry extends EventEmitter<HostEvents> {
  readonly #hosts = new Map<string, HostEntry>()
  readonly #options: HostRegistryOptions
  readonly #watchdog: NodeJS.Timeout

  constructor(options: HostRegistryOptions) {
    super()
    this.#options = options
    this.#watchdog = setInterval(() => this.#reap(), Math.max(50, Math.floor(options.heartbeatTimeoutMs / 4)))
    this.#watchdog.unref()
  }

  list(): HostEntry[] {
    return [...this.#hosts.values()]
  }

  /** Handles one host's Connect stream for its whole life. */
  connect(stream: grpc.ServerDuplexStream<HostMessage, ControllerMessageOut>): void {
    let entry: HostEntry | undefined
    stream.on('data', (message: HostMessage) => {
      if (message.message === 'register') {
        if (entry) return
        entry = this.#register(message.register, stream)
        return
      }
      if (!entry) return
      entry.lastSeenMs = Date.now()
      if (message.message === 'status') {
        entry.status = message.status
        this.emit('status', entry)
      }
    })
    const lost = (): void => {
      if (entry) this.#remove(entry)
    }
    stream.on('error', lost)
    stream.on('end', () => {
      lost()
      stream.end()
    })
    stream.on('cancelled', lost)
  }

  #register(info: RegisterHost, stream: grpc.ServerDuplexStream<HostMessage, ControllerMessageOut>): HostEntry {
    const previous = this.#hosts.get(info.hostId)
    if (previous) this.#remove(previous)
    const entry: HostEntry = {
      id: info.hostId,
      address: info.address,
      runtimes: info.runtimes,
      capacity: info.capacity,
      pid: info.pid,
      client: new HostService(info.address, grpc.credentials.createInsecure()),
      connectedAtMs: Date.now(),
      state: 'ready',
      status: EMPTY_STATUS,
      dispatched: 0,
      lastSeenMs: Date.now(),
      send: (message) => {
        if (entry.state === 'ready') stream.write(message)
      },
    }
    this.#hosts.set(entry.id, entry)
    stream.write({ registered: { hostId: entry.id, heartbeatIntervalMs: this.#options.heartbeatMs } })
    this.emit('added', entry)
    return entry
  }

  #remove(entry: HostEntry): void {
    if (entry.state === 'gone') return
    entry.state = 'gone'
    if (this.#hosts.get(entry.id) === entry) this.#hosts.delete(entry.id)
    entry.client.close()
    this.emit('removed', entry)
  }

  #reap(): void {
    const cutoff = Date.now() - this.#options.heartbeatTimeoutMs
    for (const entry of this.#hosts.values()) if (entry.lastSeenMs < cutoff) this.#remove(entry)
  }

  /** Sends a command to every ready host. */
  broadcast(message: ControllerMessageOut): void {
    for (const entry of this.#hosts.values()) entry.send(message)
  }

  close(): void {
    clearInterval(this.#watchdog)
    for (const entry of [...this.#hosts.values()]) this.#remove(entry)
  }
}
