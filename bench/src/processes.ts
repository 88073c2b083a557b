// Child processes the bench owns: spawned without tap's or npm's injected
// NODE_OPTIONS, their stdout read line by line so readiness is awaited (never
// slept for), and every one stopped when the bench ends, even on failure.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

/** The environment for children: the user's, less tap's hooks and npm's NODE_OPTIONS. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || /^_?TAP/.test(key)) continue
    env[key] = value
  }
  return { ...env, ...extra }
}

export const NODE_FLAGS = ['--no-node-snapshot', '--conditions=osiris-source']

const running = new Set<Child>()

export class Child {
  readonly name: string
  readonly proc: ChildProcess
  readonly lines: string[] = []
  readonly #waiters = new Set<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }>()

  /** With `controlFd`, the child also gets a pipe at fd 3 whose lines are read as "control: LINE". */
  constructor(name: string, file: string, args: string[], env: Record<string, string> = {}, controlFd = false) {
    this.name = name
    const stdio: StdioOptions = controlFd ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe']
    this.proc = spawn(file, args, { stdio, env: childEnv(env) })
    running.add(this)
    this.proc.once('exit', () => running.delete(this))
    const onLine = (line: string): void => {
      this.lines.push(line)
      for (const w of this.#waiters) {
        const m = line.match(w.re)
        if (m) {
          this.#waiters.delete(w)
          w.resolve(m)
        }
      }
    }
    createInterface({ input: this.proc.stdout! }).on('line', onLine)
    createInterface({ input: this.proc.stderr! }).on('line', (line) => onLine(`stderr: ${line}`))
    const control = this.proc.stdio[3]
    if (control && 'on' in control) {
      createInterface({ input: control as NodeJS.ReadableStream }).on('line', (line) => onLine(`control: ${line}`))
    }
  }

  get pid(): number {
    return this.proc.pid ?? 0
  }

  /** Resolves the first output line matching `re` (already printed or not); rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    for (const line of this.lines) {
      const m = line.match(re)
      if (m) return Promise.resolve(m)
    }
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        this.#waiters.delete(waiter)
        clearTimeout(timer)
        reject(new Error(`${this.name}: ${why} before a line matched ${re}; output:\n${this.lines.join('\n')}`))
      }
      const onExit = (): void => fail('exited')
      const waiter = {
        re,
        resolve: (m: RegExpMatchArray) => {
          clearTimeout(timer)
          this.proc.off('exit', onExit)
          resolve(m)
        },
      }
      const timer = setTimeout(() => fail(`${timeoutMs} ms passed`), timeoutMs)
      this.proc.once('exit', onExit)
      this.#waiters.add(waiter)
    })
  }

  /** Sends `signal`, then SIGKILL after `graceMs`; resolves on exit. Idempotent. */
  stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
      this.proc.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      this.proc.kill(signal)
    })
  }
}

/** Stops every child still running (used on the way out). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()))
}

/** RSS of a process from /proc, in bytes; undefined where /proc is missing. */
/**
 * RSS of `pid` and its child processes (an isolate host's worker processes),
 * bytes; undefined when `pid` cannot be read.
 */
export async function treeRssOf(pid: number): Promise<number | undefined> {
  const own = await rssOf(pid)
  if (own === undefined) return undefined
  const { readFile } = await import('node:fs/promises')
  let children: number[] = []
  try {
    children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).split(/\s+/).filter(Boolean).map(Number)
  } catch {}
  const theirs = await Promise.all(children.map((child) => treeRssOf(child)))
  return own + theirs.reduce<number>((sum, rss) => sum + (rss ?? 0), 0)
}

export async function rssOf(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
    return kb ? Number(kb) * 1024 : undefined
  } catch {
    return undefined
  }
}
