// Keeps one child process running: restarts it when it exits unexpectedly,
// with exponential backoff (reset once a child has stayed up a while), and
// stops it with SIGTERM then, past the grace, SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process'

export interface SupervisorOptions {
  name: string
  command: string
  args: string[]
  /** Added to this process's environment for the child. */
  env?: Record<string, string>
  /** Told of each exit and restart. */
  log: (line: string) => void
  minBackoffMs?: number
  maxBackoffMs?: number
  /** A child that stayed up this long resets the backoff. */
  stableMs?: number
}

export class Supervisor {
  readonly #options: Required<SupervisorOptions>
  #child: ChildProcess | undefined
  #restart: NodeJS.Timeout | undefined
  #backoffMs: number
  #stopping = false
  restarts = 0

  constructor(options: SupervisorOptions) {
    this.#options = { minBackoffMs: 200, maxBackoffMs: 5000, stableMs: 10_000, env: {}, ...options }
    this.#backoffMs = this.#options.minBackoffMs
  }

  get pid(): number | undefined {
    return this.#child?.pid
  }

  start(): void {
    if (this.#stopping) return
    const { name, command, args, log } = this.#options
    const startedAt = Date.now()
    // The IPC channel is the child's lifeline: it closes when this process dies,
    // however it dies, so a supervised child never outlives its supervisor.
    const child = spawn(command, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...this.#options.env },
    })
    this.#child = child
    child.on('exit', (code, signal) => {
      if (this.#child === child) this.#child = undefined
      if (this.#stopping) return
      if (Date.now() - startedAt >= this.#options.stableMs) this.#backoffMs = this.#options.minBackoffMs
      log(`${name} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}; restarting in ${this.#backoffMs} ms`)
      this.#restart = setTimeout(() => {
        this.restarts++
        this.start()
      }, this.#backoffMs)
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.maxBackoffMs)
    })
  }

  /** Stops the child for good. Idempotent. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#restart)
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
}
