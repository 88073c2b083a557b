// Runs Cloudflare's workerd (the binary inside the `workerd` npm package) as
// a separate process on a free loopback port, serving workerd-worker.js with
// a dynamic worker loader binding. The loader is experimental in workerd, so
// it is started with --experimental; the bound port comes back on --control-fd.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Child } from '../processes.ts'

const require = createRequire(import.meta.url)

const CONFIG = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .mainWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const mainWorker :Workerd.Worker = (
  modules = [ (name = "main.js", esModule = embed "main.js") ],
  compatibilityDate = "2025-06-01",
  bindings = [ (name = "LOADER", workerLoader = ()) ],
);
`

/** The workerd binary's path and version ("workerd 2026-11-17" and the npm version). */
export function workerdInfo(): { bin: string; npmVersion: string } {
  const pkg = require('workerd/package.json') as { version: string }
  const main = require.resolve('workerd')
  return { bin: join(main, '..', '..', 'bin', 'workerd'), npmVersion: pkg.version }
}

export class WorkerdServer {
  readonly proc: Child
  readonly address: string
  readonly #dir: string

  private constructor(proc: Child, address: string, dir: string) {
    this.proc = proc
    this.address = address
    this.#dir = dir
  }

  static async start(): Promise<WorkerdServer> {
    const dir = await mkdtemp(join(tmpdir(), 'osiris-bench-workerd-'))
    await writeFile(join(dir, 'config.capnp'), CONFIG)
    await copyFile(new URL('./workerd-worker.js', import.meta.url), join(dir, 'main.js'))
    const args = ['serve', '--experimental', '--control-fd=3', join(dir, 'config.capnp')]
    const proc = new Child('workerd', workerdInfo().bin, args, {}, true)
    try {
      const m = await proc.waitFor(/^control: .*"socket":"http".*"port":(\d+)/)
      return new WorkerdServer(proc, `127.0.0.1:${m[1]}`, dir)
    } catch (error) {
      await proc.stop()
      await rm(dir, { recursive: true, force: true })
      throw error
    }
  }

  async close(): Promise<void> {
    await this.proc.stop()
    await rm(this.#dir, { recursive: true, force: true })
  }
}
