// The isolate executor as the host sees it when tenant code runs in worker
// processes: `workers` slots (worker-process.ts) each running an
// IsolateExecutor with its own warm pool, plus one more that only checks
// deploys (TypeScript stripping and the module's first load), so a deploy
// that kills its process takes no one's calls with it. A function (module)
// is assigned to one worker on its first call, the one with the fewest
// modules, and stays there, so its instances stay together and load spreads;
// while its worker restarts, calls go to another. A module whose calls kill
// a worker twice within QUARANTINE_WINDOW_MS is refused for QUARANTINE_MS.
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { type CallLimits, defaultLimits, OsirisError, resolveLimits, type ValidateResponse } from '@osiris/proto'
import type { Executor, ExecutorStatus, InvokeParams, InvokeResult, LogEntry } from '../executor.ts'
import { ISOLATE_RUNTIMES, isIsolateRuntime } from '../validate.ts'
import { planSandbox, removeSandbox, type SandboxPlan } from './sandbox.ts'
import type { WorkerConfig } from './worker-loop.ts'
import { type CrashReport, WorkerSlot } from './worker-process.ts'

export interface WorkerExecutorOptions {
  /** Worker processes serving calls. Default: the number of cores. */
  workers?: number
  /** Generic isolates kept ready, in all (split across workers, at least 1 each). */
  poolTarget: number
  memoryLimitMb: number
  /** Most function instances in all (split across workers). */
  maxInstances: number
  loadTimeoutMs: number
  idleTtlMs?: number
  /** OS memory cap of each worker process, MiB. Default 4096. */
  workerMemoryMb?: number
  /** Function code by content hash (the host's cache, else the controller). */
  code(hash: string): Promise<string>
  /** Records code a deploy check produced, so calls here need not fetch it. */
  keepCode(code: string): void
  onLog: (entry: LogEntry) => void
  onChange: () => void
  /** Where the one-time notes on missing privileges go. Default: stderr. */
  warn?: (line: string) => void
}

/** Deaths of one module's calls within this window that quarantine it. */
const QUARANTINE_STRIKES = 2
const QUARANTINE_WINDOW_MS = 60_000
/** How long a quarantined module's calls are refused, ms. */
const QUARANTINE_MS = 60_000

/** /proc/PID/statm counts pages; 4 KiB on the machines this runs on (x86-64, arm64 default). */
const PAGE_BYTES = 4096

/** The Node flags a worker runs with: those of the host that matter to loading code. */
function workerNodeArgs(): string[] {
  const keep = process.execArgv.filter((a) => a.startsWith('--conditions') || a === '--no-node-snapshot')
  return keep.includes('--no-node-snapshot') ? keep : ['--no-node-snapshot', ...keep]
}

export class WorkerExecutor implements Executor {
  readonly runtimes = ISOLATE_RUNTIMES
  readonly #options: WorkerExecutorOptions
  readonly #slots: WorkerSlot[]
  /** Deploy checks only. */
  readonly #checker: WorkerSlot
  #plan: SandboxPlan | undefined
  /** Settles once the sandbox plan is made and the workers were started under it. */
  readonly #planned: Promise<void>
  readonly #assigned = new Map<string, WorkerSlot>()
  readonly #strikes = new Map<string, number[]>()
  readonly #quarantined = new Map<string, number>()
  readonly #defaultLimits: Readonly<CallLimits>
  #inFlight = 0
  #lastStartMs = 0
  #closed = false

  constructor(options: WorkerExecutorOptions) {
    this.#options = options
    const count = options.workers ?? availableParallelism()
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`workers must be a positive integer, got ${count}`)
    this.#defaultLimits = defaultLimits({ memoryMb: options.memoryLimitMb })
    const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`))
    const config = (poolTarget: number, maxInstances: number): WorkerConfig => ({
      poolTarget,
      memoryLimitMb: options.memoryLimitMb,
      maxInstances,
      loadTimeoutMs: options.loadTimeoutMs,
      idleTtlMs: options.idleTtlMs ?? 300_000,
    })
    const slot = (index: number, workerConfig: WorkerConfig): WorkerSlot =>
      new WorkerSlot({
        index,
        config: workerConfig,
        memoryCapMb: options.workerMemoryMb ?? 4096,
        nodeArgs: workerNodeArgs(),
        code: options.code,
        memoryMbOf: (params) => resolveLimits(params.limits, this.#defaultLimits).memoryMb,
        onLog: options.onLog,
        onChange: options.onChange,
        onCrash: (report) => this.#onCrash(report),
      })
    const pool = Math.max(1, Math.ceil(options.poolTarget / count))
    const instances = Math.max(1, Math.ceil(options.maxInstances / count))
    this.#slots = Array.from({ length: count }, (_, i) => slot(i + 1, config(pool, instances)))
    this.#checker = slot(0, config(1, 1))
    this.#planned = planSandbox(String(process.pid)).then((plan) => {
      this.#plan = plan
      for (const line of plan.missing) warn(`isolate workers: ${line}`)
      if (this.#closed) return
      for (const s of [this.#checker, ...this.#slots]) s.start(plan)
    })
  }

  /** Resolves once every worker has started (its warm pool filled); UNAVAILABLE past `withinMs`. */
  async ready(withinMs = 60_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const waiting = [this.#checker, ...this.#slots].filter((s) => s.state !== 'ready').map((s) => s.name)
        reject(
          new OsirisError('UNAVAILABLE', `isolate workers did not start within ${withinMs} ms: ${waiting.join(', ')}`),
        )
      }, withinMs)
    })
    try {
      await Promise.race([Promise.all([this.#checker, ...this.#slots].map((s) => s.ready())), late])
    } finally {
      clearTimeout(timer)
    }
  }

  /** The worker slots serving calls (tests and status). */
  get workers(): readonly WorkerSlot[] {
    return this.#slots
  }

  /** The worker a module's calls go to, once it has had one. */
  workerOf(module: string): WorkerSlot | undefined {
    return this.#assigned.get(module)
  }

  /** What the host could and could not arrange for its workers (once they were started). */
  get sandbox(): SandboxPlan | undefined {
    return this.#plan
  }

  async validate(runtime: string, source: string, filename: string): Promise<ValidateResponse> {
    if (!isIsolateRuntime(runtime)) {
      throw new OsirisError('INVALID_ARGUMENT', `runtime "${runtime}" is not served by isolates (use js or ts)`)
    }
    await this.#checker.ready()
    const response = await this.#checker.validate(runtime, source, filename)
    this.#options.keepCode(response.code)
    return response
  }

  async invoke(params: InvokeParams): Promise<InvokeResult> {
    if (this.#closed) throw new OsirisError('CLOSED', 'this host is shutting down; the call did not start')
    this.#refuseQuarantined(params)
    const started = performance.now()
    this.#lastStartMs = started
    this.#inFlight++
    try {
      const slot = await this.#slotFor(params)
      return await slot.invoke(params, started)
    } finally {
      this.#inFlight--
      this.#options.onChange()
    }
  }

  #refuseQuarantined(params: InvokeParams): void {
    const until = this.#quarantined.get(params.module)
    if (until === undefined) return
    const left = until - Date.now()
    if (left <= 0) {
      this.#quarantined.delete(params.module)
      return
    }
    const error = new OsirisError(
      'RESOURCE_EXHAUSTED',
      `function "${params.functionName}" is quarantined on this host for another ${Math.ceil(left / 1000)} s: calls of module "${params.module}" crashed its worker process ${QUARANTINE_STRIKES} times within ${QUARANTINE_WINDOW_MS / 1000} s`,
    )
    error.started = 'never'
    error.retryAfterMs = left
    throw error
  }

  /** The module's worker; while it restarts, another ready one; with none ready, the first to be. */
  async #slotFor(params: InvokeParams): Promise<WorkerSlot> {
    let slot = this.#assigned.get(params.module)
    if (!slot) {
      const load = new Map(this.#slots.map((s) => [s, 0]))
      for (const s of this.#assigned.values()) load.set(s, (load.get(s) ?? 0) + 1)
      slot = this.#slots.reduce((best, s) => ((load.get(s) ?? 0) < (load.get(best) ?? 0) ? s : best))
      this.#assigned.set(params.module, slot)
    }
    if (slot.state === 'ready') return slot
    const other = this.#slots.find((s) => s.state === 'ready')
    if (other) return other
    const waited = await Promise.race([
      Promise.any(this.#slots.map((s) => s.ready().then(() => s))).catch(() => undefined),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), params.timeoutMs).unref()),
    ])
    if (waited) return waited
    const error = new OsirisError('UNAVAILABLE', `no isolate worker on this host came up within ${params.timeoutMs} ms`)
    error.started = 'never'
    throw error
  }

  #onCrash(report: CrashReport): void {
    // The culprit, when one can be told; else every module in flight there, which are also
    // spread over other workers so that a second death tells them apart.
    const blamed = report.culprit ? [report.culprit] : report.suspects
    const now = Date.now()
    for (const module of blamed) {
      const strikes = (this.#strikes.get(module) ?? []).filter((at) => at > now - QUARANTINE_WINDOW_MS)
      strikes.push(now)
      this.#strikes.set(module, strikes)
      if (strikes.length >= QUARANTINE_STRIKES) {
        this.#quarantined.set(module, now + QUARANTINE_MS)
        this.#strikes.delete(module)
        process.stderr.write(
          `isolate workers: module "${module}" quarantined for ${QUARANTINE_MS / 1000} s (its calls killed a worker ${strikes.length} times within ${QUARANTINE_WINDOW_MS / 1000} s; last: ${report.reason})\n`,
        )
      }
    }
    if (!report.culprit && report.suspects.length > 1) {
      report.suspects.forEach((module, i) => {
        const slot = this.#slots[i % this.#slots.length]
        if (slot) this.#assigned.set(module, slot)
      })
    }
  }

  evict(module: string, beforeVersion: number): void {
    for (const slot of this.#slots) slot.evict(module, beforeVersion)
  }

  status(): ExecutorStatus {
    let poolReady = 0
    let poolTarget = 0
    // One entry per version, though its instances may sit in two workers (one stood in for the other).
    const instances = new Map<number, ExecutorStatus['instances'][number]>()
    for (const slot of this.#slots) {
      poolReady += slot.poolReady
      poolTarget += slot.poolTarget
      for (const i of slot.instances) {
        // The worker reports how many instances it holds; which are busy is counted here.
        const busy = Math.min(slot.busy.get(i.version) ?? 0, i.idle)
        const mine = { module: i.module, version: i.version, busy, idle: i.idle - busy }
        const seen = instances.get(i.version)
        if (seen) instances.set(i.version, { ...seen, busy: seen.busy + mine.busy, idle: seen.idle + mine.idle })
        else instances.set(i.version, mine)
      }
    }
    return { poolReady, poolTarget, inFlight: this.#inFlight, instances: [...instances.values()] }
  }

  /** RSS of the worker processes, bytes (from /proc; 0 for one that cannot be read). */
  workersRssBytes(): number {
    let total = 0
    for (const slot of [this.#checker, ...this.#slots]) {
      if (slot.pid === undefined || slot.state === 'restarting') continue
      try {
        const pages = Number(readFileSync(`/proc/${slot.pid}/statm`, 'utf8').split(' ')[1])
        if (Number.isFinite(pages)) total += pages * PAGE_BYTES
      } catch {}
    }
    return total
  }

  /** Resolves once no call is in flight and none has started for `quietMs` (or after `maxMs`). */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const deadline = performance.now() + maxMs
    while (performance.now() < deadline) {
      const since = performance.now() - this.#lastStartMs
      if (this.#inFlight === 0 && since >= quietMs) return
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(quietMs - since, 20))))
    }
  }

  async close(graceMs: number): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#planned
    await Promise.all([this.#checker, ...this.#slots].map((s) => s.close(graceMs)))
    if (this.#plan) removeSandbox(this.#plan)
  }
}
