// Runs the real Osiris platform as separate processes: `osiris start` (the
// controller, which supervises one isolate host child) on free loopback ports
// with its own data directory, and an SDK client to it from this process.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type OsirisClient } from '@osiris/sdk'
import { Child, NODE_FLAGS } from '../processes.ts'

const BIN = new URL('../../../cli/bin/osiris.js', import.meta.url).pathname

export class OsirisPlatform {
  readonly proc: Child
  readonly grpc: string
  readonly http: string
  readonly client: OsirisClient
  readonly #dataDir: string

  private constructor(proc: Child, grpc: string, http: string, dataDir: string) {
    this.proc = proc
    this.grpc = grpc
    this.http = http
    this.#dataDir = dataDir
    this.client = connect(grpc)
  }

  /** Starts `osiris start` with `extra` flags (and `env`, e.g. NODE_OPTIONS for profiling); waits until ready. */
  static async start(extra: string[] = [], env: Record<string, string> = {}): Promise<OsirisPlatform> {
    const dataDir = await mkdtemp(join(tmpdir(), 'osiris-bench-'))
    const args = ['start', '--port', '0', '--http-port', '0', '--data-dir', dataDir, ...extra]
    const proc = new Child('osiris start', process.execPath, [...NODE_FLAGS, BIN, ...args], env)
    try {
      const m = await proc.waitFor(/^controller listening on (\S+) \(gRPC\) and http:\/\/(\S+) \(HTTP\)/)
      await proc.waitFor(/^Osiris is ready/)
      return new OsirisPlatform(proc, m[1] ?? '', m[2] ?? '', dataDir)
    } catch (error) {
      await proc.stop()
      await rm(dataDir, { recursive: true, force: true })
      throw error
    }
  }

  /** The pid of the (single) host child, from the controller's host list. */
  async hostPid(): Promise<number> {
    const [host] = await this.client.hosts()
    if (!host) throw new Error('no host has connected to the controller')
    return host.pid
  }

  /** Resolves once the host's warm pool is full again (its status is pushed on change). */
  async poolFull(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const [host] = await this.client.hosts()
      if (host && host.poolReady >= host.poolTarget) return
      await new Promise((r) => setTimeout(r, 5))
    }
    throw new Error(`the host's warm pool did not refill within ${timeoutMs} ms`)
  }

  async close(): Promise<void> {
    this.client.close()
    await this.proc.stop('SIGINT', 15_000)
    await rm(this.#dataDir, { recursive: true, force: true })
  }
}
