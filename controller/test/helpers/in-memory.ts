// Helpers to run the controller's call-path algorithms in memory: a clock the
// test moves by hand, and hosts registered through HostRegistry.connect over
// an in-process stream (the same messages a host sends over gRPC).
import { EventEmitter } from 'node:events'
import type { HostStatus, InstanceStatus } from '@osiris/proto'
import type { Clock, TimerHandle } from '../../src/clock.ts'
import { type HostEntry, HostRegistry } from '../../src/host-registry.ts'
import type { FunctionRecord } from '../../src/store/store.ts'

/** A clock that moves only when `advance` is called; due timers fire in time order. */
export class ManualClock implements Clock {
  #now = 1_000_000
  #timers: Array<{ at: number; fn: () => void; handle: TimerHandle }> = []

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = { id: Symbol('timer') }
    this.#timers.push({ at: this.#now + Math.max(0, ms), fn, handle })
    return handle
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.#timers = this.#timers.filter((t) => t.handle !== handle)
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      this.#timers = this.#timers.filter((t) => t !== due)
      this.#now = due.at
      due.fn()
    }
    this.#now = end
  }
}

/** A host's end of a Connect stream, kept in memory: what the controller writes is recorded. */
class MemoryStream extends EventEmitter {
  readonly written: unknown[] = []
  ended = false

  write(message: unknown): boolean {
    this.written.push(message)
    return true
  }

  end(): void {
    this.ended = true
  }
}

export interface TestHost {
  entry: HostEntry
  /** Sends a status report as the host would. */
  report(status: Partial<HostStatus>): void
  /** The host's stream breaks. */
  drop(): void
}

const BASE_STATUS: HostStatus = {
  poolReady: 4,
  poolTarget: 4,
  inFlight: 0,
  instances: [],
  rssBytes: 0,
  cachedCode: [],
  draining: false,
}

export function hostRegistry(): HostRegistry {
  return new HostRegistry({ heartbeatMs: 1000, heartbeatTimeoutMs: 60_000 })
}

/** Registers a host with `registry` over an in-memory stream. */
export function addHost(
  registry: HostRegistry,
  id: string,
  options: { capacity?: number; runtimes?: string[]; status?: Partial<HostStatus> } = {},
): TestHost {
  const stream = new MemoryStream()
  registry.connect(stream as never)
  stream.emit('data', {
    message: 'register',
    register: {
      hostId: id,
      address: '127.0.0.1:1',
      runtimes: options.runtimes ?? ['js', 'ts'],
      capacity: options.capacity ?? 100,
      pid: 1,
    },
  })
  const entry = registry.list().find((h) => h.id === id)
  if (!entry) throw new Error(`host ${id} did not register`)
  const report = (status: Partial<HostStatus>): void => {
    stream.emit('data', { message: 'status', status: { ...BASE_STATUS, ...status } })
  }
  report(options.status ?? {})
  return { entry, report, drop: () => stream.emit('end') }
}

/** Instances of `fn` on a host, as a status report lists them. */
export function instances(fn: FunctionRecord, busy: number, idle: number): InstanceStatus {
  return { module: fn.module, version: fn.version, busy, idle }
}

let nextVersion = 1

/** A deployed function's record, as the registry holds it. */
export function fnRecord(name: string, params: string[] = [], runtime = 'js'): FunctionRecord {
  return {
    name,
    module: name,
    runtime,
    version: nextVersion++,
    params: params.map((p) => ({ name: p, optional: false, rest: false })),
    deployedAtMs: 0,
    codeHash: `hash-${name}`,
    limits: { timeoutMs: 0, cpuMs: 0, memoryMb: 0 },
    egressAllow: [],
  }
}
