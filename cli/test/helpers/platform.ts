// Test helpers that run the real `osiris` command as child processes: the
// embedded platform (`osiris start` on port 0) and one-shot client verbs.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/osiris.js', import.meta.url))
const NODE_FLAGS = ['--no-node-snapshot', '--conditions=osiris-source']
const USER_ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^_?TAP/.test(key)))

/**
 * Spawns `file` as a user would run it: tap's process tracking injects its
 * loader into every child's NODE_OPTIONS, so the child goes through
 * `env -u NODE_OPTIONS` (which execs, keeping the pid).
 */
export function spawnAsUser(file: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn('env', ['-u', 'NODE_OPTIONS', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...USER_ENV, ...env },
  })
}

/** Runs `osiris ARGS…` (this checkout's CLI) as a user would. */
export function spawnOsiris(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawnAsUser(process.execPath, [...NODE_FLAGS, BIN, ...args], env)
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export class Platform {
  readonly proc: ChildProcess
  readonly lines: string[] = []
  grpc = ''
  http = ''
  readonly #waiters = new Set<{ re: RegExp; from: number; resolve: (m: RegExpMatchArray) => void }>()

  constructor(proc: ChildProcess) {
    this.proc = proc
    const rl = createInterface({ input: proc.stdout! })
    rl.on('line', (line) => {
      this.lines.push(line)
      for (const w of this.#waiters) {
        const m = line.match(w.re)
        if (m && this.lines.length - 1 >= w.from) {
          this.#waiters.delete(w)
          w.resolve(m)
        }
      }
    })
    proc.stderr!.on('data', (chunk: Buffer) => this.lines.push(`stderr: ${chunk.toString().trimEnd()}`))
  }

  /** Resolves the first stdout line at index ≥ `from` matching `re`; rejects after `timeoutMs`. */
  waitFor(re: RegExp, from = 0, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    for (const line of this.lines.slice(from)) {
      const m = line.match(re)
      if (m) return Promise.resolve(m)
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        re,
        from,
        resolve: (m: RegExpMatchArray) => {
          clearTimeout(timer)
          resolve(m)
        },
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`no line matched ${re} within ${timeoutMs} ms; output:\n${this.lines.join('\n')}`))
      }, timeoutMs)
      this.#waiters.add(waiter)
    })
  }

  /** Pids of every host that has connected, by host id (latest connection wins). */
  hostPids(): Map<string, number> {
    const pids = new Map<string, number>()
    for (const line of this.lines) {
      const m = /^host (\S+) connected from .* \(pid (\d+)\)/.exec(line)
      if (m?.[1] && m[2]) pids.set(m[1], Number(m[2]))
    }
    return pids
  }

  /** The pid of the host child most recently connected. */
  hostPid(): number {
    const connected = this.lines.filter((l) => /^host \S+ connected from/.test(l)).at(-1)
    const pid = Number(connected?.match(/\(pid (\d+)\)/)?.[1])
    if (!pid) throw new Error(`no host has connected; output:\n${this.lines.join('\n')}`)
    return pid
  }

  /** SIGINT (Ctrl-C) and wait for the exit; resolves the exit code. */
  stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve(this.proc.exitCode)
    return new Promise((resolve) => {
      this.proc.ref()
      this.proc.once('exit', (code) => resolve(code))
      this.proc.kill(signal)
    })
  }
}

/** Runs `osiris start` on free ports with `dataDir`, waits until it is ready. */
export async function startPlatform(
  t: Teardown,
  dataDir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<Platform> {
  const proc = spawnOsiris(
    ['start', ...['--port', '0', '--http-port', '0', '--data-dir', dataDir, '--pool', '4'], ...extra],
    env,
  )
  // Unreferenced so the test process can finish; teardown then stops it.
  proc.unref()
  for (const stream of [proc.stdout, proc.stderr]) (stream as unknown as { unref(): void }).unref()
  const platform = new Platform(proc)
  t.teardown(() => platform.stop('SIGTERM'))
  const m = await platform.waitFor(/^controller listening on (\S+) \(gRPC\) and https?:\/\/(\S+) \(HTTP\)/)
  platform.grpc = m[1] ?? ''
  platform.http = m[2] ?? ''
  await platform.waitFor(/^Osiris is ready/)
  return platform
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs one `osiris` verb to completion. */
export function runCli(args: string[], env: Record<string, string> = {}, nodeFlags = NODE_FLAGS): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawnAsUser(process.execPath, [...nodeFlags, BIN, ...args], env)
    let stdout = ''
    let stderr = ''
    proc.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
    proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
    proc.on('error', reject)
    proc.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Polls `check` until it resolves true, or fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${what} did not hold within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
}

/** Whether a process with this pid still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** On teardown, SIGTERM `proc` (if it still runs) and wait for it to exit. */
export function stopOnTeardown(t: Teardown, proc: ChildProcess): void {
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
        proc.once('exit', () => resolve())
        proc.kill('SIGTERM')
      }),
  )
}
