// One isolate worker slot, host side: spawns the worker process (sandboxed as
// far as the host may), forwards calls and deploy checks over its IPC channel,
// carries out what the worker asks of the host (code by hash, fetch, logs), and
// when the process dies answers every call it held — the one that killed it
// RESOURCE_EXHAUSTED, the others UNAVAILABLE "may have run" — then starts a new
// one after a backoff. The worker is less trusted than the host: what it sends
// is checked against what the host asked of it.
import { type ChildProcess, spawn } from 'node:child_process'
import { OsirisError } from '@osiris/proto'
import { egressPolicy } from '../egress.ts'
import { type InvokeParams, type InvokeResult, type LogEntry, microsSince } from '../executor.ts'
import { CallFetch, type FetchDeliver } from '../fetch-host.ts'
import type { FromWorker, ToWorker, WorkerInvoke } from './protocol.ts'
import { cgroupOomKilled, removeWorkerCgroup, type SandboxPlan, sandboxedCommand } from './sandbox.ts'
import { threadsBusyThroughout } from './thread-cpu.ts'
import { fromWire } from './wire-error.ts'
import type { WorkerConfig } from './worker-loop.ts'

const WORKER_MAIN = new URL('./worker-main.ts', import.meta.url).pathname

export type WorkerState = 'starting' | 'ready' | 'restarting' | 'closed'

/** What a worker's death is put down to, for the executor's quarantine. */
export interface CrashReport {
  worker: number
  /** Modules whose calls were in flight (the culprit among them, or all when it cannot be told). */
  suspects: string[]
  /** The module of the call that caused it, when one call can be told. */
  culprit: string | undefined
  memory: boolean
  reason: string
}

export interface WorkerSlotOptions {
  index: number
  config: WorkerConfig
  /** OS memory cap of the worker process, MiB (when the plan has a cgroup). */
  memoryCapMb: number
  /** Node flags the worker runs with. */
  nodeArgs: string[]
  /** Function code by hash (the host's cache, else the controller). */
  code(hash: string): Promise<string>
  /** A call's memory limit, MiB, as the worker resolves it (for messages). */
  memoryMbOf(params: InvokeParams): number
  onLog(entry: LogEntry): void
  onChange(): void
  onCrash(report: CrashReport): void
  /** Each worker start: said on stderr by the executor. */
  onStart?(pid: number): void
}

interface PendingInvoke {
  kind: 'invoke'
  params: InvokeParams
  started: number
  codeFetchUs: number
  resolve(result: InvokeResult): void
  reject(error: OsirisError): void
  done(): void
}

interface PendingValidate {
  kind: 'validate'
  filename: string
  resolve(response: import('@osiris/proto').ValidateResponse): void
  reject(error: OsirisError): void
}

type Pending = PendingInvoke | PendingValidate

/** Window over which a worker's threads are watched after a limit's answer, ms, and readings within it. */
const STUCK_WINDOW_MS = 60
const STUCK_SAMPLES = 6
/** Signals that say the process was ended, not that it failed. */
const ENDED_FROM_OUTSIDE: ReadonlySet<string> = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP'])
/** What V8 and Node print on a fatal out-of-memory (heap statistics, the failed allocation, Node's own line). */
const OOM_TEXT = /is_heap_oom = 1|Last few GCs|CALL_AND_RETRY_LAST|out of memory|heap limit|Allocation failed/i

export class WorkerSlot {
  readonly index: number
  readonly #options: WorkerSlotOptions
  #child: ChildProcess | undefined
  #plan: SandboxPlan | undefined
  #state: WorkerState = 'starting'
  #ready = Promise.withResolvers<void>()
  readonly #pending = new Map<number, Pending>()
  #ids = 0
  /** Code hashes this worker process has been sent (it may have dropped some since; then it asks). */
  #sent = new Set<string>()
  #stderr = ''
  #killedFor: { reason: string; culprit: string | undefined } | undefined
  readonly #crashes: number[] = []
  #restartTimer: NodeJS.Timeout | undefined
  readonly #fetches = new Map<number, CallFetch>()
  /** Fetch parts sent to the worker and not yet acknowledged: whether the isolate wants more. */
  readonly #acks = new Map<number, (wanted: boolean) => void>()
  #ackSeq = 0
  /** Checks under way that work answered for a limit has stopped. */
  readonly #checks = new Set<Promise<void>>()
  /** The worker's last status report. */
  poolReady = 0
  poolTarget = 0
  /** Instances per version as the worker last reported them (all counted idle: busy is counted here). */
  instances: import('@osiris/proto').InstanceStatus[] = []
  inFlight = 0
  /** Calls in flight here by version: what is busy. */
  readonly busy = new Map<number, number>()
  /** Processes started in this slot (the first is 1). */
  generation = 0
  pid: number | undefined

  constructor(options: WorkerSlotOptions) {
    this.index = options.index
    this.#options = options
  }

  /** Starts the worker process under `plan` (once the host knows what it may do). */
  start(plan: SandboxPlan): void {
    if (this.#plan || this.#state === 'closed') return
    this.#plan = plan
    this.#spawn()
  }

  get state(): WorkerState {
    return this.#state
  }

  get name(): string {
    return `worker-${this.index}`
  }

  /** Resolves when the current (or next) process is ready. */
  ready(): Promise<void> {
    return this.#ready.promise
  }

  #spawn(): void {
    const plan = this.#plan
    if (!plan) return
    const { config, memoryCapMb, nodeArgs } = this.#options
    const [command, ...args] = sandboxedCommand(plan, this.name, memoryCapMb, [
      process.execPath,
      ...nodeArgs,
      WORKER_MAIN,
    ])
    this.#state = 'starting'
    this.#stderr = ''
    this.#killedFor = undefined
    this.#sent = new Set()
    this.generation++
    const child = spawn(command as string, args, {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
      // Nothing of the host's environment (tokens among it) reaches the worker.
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', OSIRIS_WORKER: JSON.stringify(config) },
    })
    this.#child = child
    this.pid = child.pid
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-16_384)
      process.stderr.write(chunk.replace(/^(?=.)/gm, `[${this.name} pid ${child.pid}] `))
    })
    child.on('message', (message: FromWorker) => this.#onMessage(child, message))
    child.on('error', (error) => {
      // A close sent while the process was still starting can fail to write (EPIPE): it is being ended anyway.
      if (this.#state !== 'closed') process.stderr.write(`${this.name}: ${error.message}\n`)
    })
    child.on('exit', (code, signal) => this.#onExit(child, code, signal))
  }

  #send(message: ToWorker): boolean {
    const child = this.#child
    if (!child?.connected) return false
    child.send(message)
    return true
  }

  /** Runs a call in this worker. The caller checked it is ready; a death meanwhile is answered. */
  async invoke(params: InvokeParams, started: number): Promise<InvokeResult> {
    const { codeHash } = params
    let code: string | undefined
    let codeFetchUs = 0
    if (!this.#sent.has(codeHash)) {
      code = await this.#options.code(codeHash)
      codeFetchUs = microsSince(started)
    }
    const { signal } = params
    if (signal?.aborted) throw cancelled('the caller has gone; the call did not start', 'never')
    if (this.#state !== 'ready') {
      throw unavailable(`${this.name} is restarting; the call did not start`, 'never')
    }
    const id = ++this.#ids
    const wire: WorkerInvoke = {
      callId: params.callId,
      functionName: params.functionName,
      module: params.module,
      version: params.version,
      codeHash,
      args: params.args,
      timeoutMs: params.timeoutMs,
    }
    if (params.limits) wire.limits = params.limits
    if (params.egressAllow) wire.egressAllow = params.egressAllow
    if (params.runtime !== undefined) wire.runtime = params.runtime
    const { promise, resolve, reject } = Promise.withResolvers<InvokeResult>()
    const onAbort = (): void => void this.#send({ t: 'abort', id })
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#pending.set(id, {
      kind: 'invoke',
      params,
      started,
      codeFetchUs,
      resolve,
      reject,
      done: () => signal?.removeEventListener('abort', onAbort),
    })
    this.inFlight++
    this.busy.set(params.version, (this.busy.get(params.version) ?? 0) + 1)
    if (code !== undefined) this.#sent.add(codeHash)
    const sent = this.#send(
      code === undefined ? { t: 'invoke', id, params: wire } : { t: 'invoke', id, params: wire, code },
    )
    if (!sent) {
      this.#take(id, 'invoke')
      throw unavailable(`${this.name} is gone; the call did not start`, 'never')
    }
    return promise
  }

  validate(runtime: string, source: string, filename: string): Promise<import('@osiris/proto').ValidateResponse> {
    if (this.#state !== 'ready') {
      return Promise.reject(unavailable(`${this.name} is restarting; the deploy was not checked`, 'never'))
    }
    const id = ++this.#ids
    const { promise, resolve, reject } = Promise.withResolvers<import('@osiris/proto').ValidateResponse>()
    this.#pending.set(id, { kind: 'validate', filename, resolve, reject })
    this.#send({ t: 'validate', id, runtime, source, filename })
    return promise
  }

  evict(module: string, beforeVersion: number): void {
    this.#send({ t: 'evict', module, beforeVersion })
  }

  #onMessage(child: ChildProcess, message: FromWorker): void {
    if (child !== this.#child || typeof message !== 'object' || message === null) return
    switch (message.t) {
      case 'ready':
        this.#state = 'ready'
        this.#options.onStart?.(this.pid ?? 0)
        this.#ready.resolve()
        this.#options.onChange()
        break
      case 'status':
        this.poolReady = Number(message.poolReady) || 0
        this.poolTarget = Number(message.poolTarget) || 0
        this.instances = Array.isArray(message.instances) ? message.instances : []
        this.#options.onChange()
        break
      case 'result': {
        const call = this.#take(message.id, 'invoke')
        if (!call) break
        call.resolve({
          result: String(message.result),
          coldStart: message.coldStart === true,
          durationUs: microsSince(call.started),
          codeFetchUs: call.codeFetchUs + (Number(message.codeFetchUs) || 0),
          startUs: Number(message.startUs) || 0,
          executionUs: Number(message.executionUs) || 0,
        })
        break
      }
      case 'validated': {
        const check = this.#take(message.id, 'validate')
        check?.resolve(message.response)
        break
      }
      case 'failed': {
        const pending = this.#pending.get(message.id)
        if (!pending) break
        const error = fromWire(message.error)
        if (pending.kind === 'invoke') {
          this.#take(message.id, 'invoke')
          pending.reject(error)
          if (error.code === 'DEADLINE_EXCEEDED' || error.breach !== undefined || error.code === 'RESOURCE_EXHAUSTED') {
            const check = this.#checkStopped(child, pending.params.module)
            this.#checks.add(check)
            void check.finally(() => this.#checks.delete(check))
          }
        } else {
          this.#pending.delete(message.id)
          pending.reject(error)
        }
        break
      }
      case 'log':
        this.#log(message.entry)
        break
      case 'code':
        void this.#answerCode(message.id, String(message.hash))
        break
      case 'fetch':
        this.#fetch(message.session, message.id, message.allow, message.pool, message.memoryMb, message.request)
        break
      case 'fetch-ack': {
        const resolve = this.#acks.get(message.ack)
        this.#acks.delete(message.ack)
        resolve?.(message.wanted === true)
        break
      }
      case 'fetch-close':
        this.#fetches.get(message.session)?.close()
        this.#fetches.delete(message.session)
        break
      case 'closed':
        break
    }
  }

  #take(id: number, kind: 'invoke'): PendingInvoke | undefined
  #take(id: number, kind: 'validate'): PendingValidate | undefined
  #take(id: number, kind: Pending['kind']): Pending | undefined {
    const pending = this.#pending.get(id)
    if (pending?.kind !== kind) return undefined
    this.#pending.delete(id)
    if (pending.kind === 'invoke') this.#settled(pending)
    return pending
  }

  #settled(call: PendingInvoke): void {
    this.inFlight--
    const { version } = call.params
    const busy = (this.busy.get(version) ?? 1) - 1
    if (busy > 0) this.busy.set(version, busy)
    else this.busy.delete(version)
    call.done()
  }

  /** A console line, credited to the call in flight here that it names (nothing else). */
  #log(entry: LogEntry): void {
    for (const pending of this.#pending.values()) {
      if (pending.kind !== 'invoke' || pending.params.callId !== entry.callId) continue
      const { module, version, functionName, callId } = pending.params
      const level = ['debug', 'info', 'warn', 'error'].includes(entry.level) ? entry.level : 'info'
      this.#options.onLog({
        timeMs: Date.now(),
        level,
        module,
        version,
        functionName,
        callId,
        line: String(entry.line),
      })
      return
    }
  }

  /** Code only for calls this worker holds: a worker cannot read other tenants' code by hash. */
  async #answerCode(id: number, hash: string): Promise<void> {
    const held = [...this.#pending.values()].some((p) => p.kind === 'invoke' && p.params.codeHash === hash)
    if (!held) {
      this.#send({ t: 'code', id, error: { code: 'NOT_FOUND', message: `no call here runs code ${hash}` } })
      return
    }
    try {
      this.#send({ t: 'code', id, code: await this.#options.code(hash) })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      this.#send({ t: 'code', id, error: { code: error instanceof OsirisError ? error.code : 'INTERNAL', message } })
    }
  }

  /**
   * A guest's fetch, carried out here under the egress policy of the calls in
   * flight on this worker (an allowlist no call here was given is refused).
   */
  #fetch(session: number, id: number, allow: unknown, pool: unknown, memoryMb: unknown, request: unknown): void {
    const granted = new Set<string>()
    // The function's own call on this worker names its pool and bounds its memory: a worker cannot claim more.
    let caller: PendingInvoke | undefined
    for (const p of this.#pending.values()) {
      if (p.kind !== 'invoke') continue
      for (const h of egressPolicy(p.params.egressAllow).allow) granted.add(h)
      if (`${p.params.module}/${p.params.functionName}` === pool) caller = p
    }
    const hosts = [...egressPolicy(Array.isArray(allow) ? allow.map(String) : []).allow]
    const parts = Array.isArray(request) ? request : []
    const refuse = (why: string): void => {
      this.#send({ t: 'fetched', session, id, part: ['error', why], ack: ++this.#ackSeq })
    }
    if (!hosts.every((h) => granted.has(h))) {
      refuse('fetch refused: egress allowlist not granted to any call on this worker')
      return
    }
    if (!caller) {
      refuse('fetch refused: no call of that function is in flight on this worker')
      return
    }
    const limitMb = this.#options.memoryMbOf(caller.params)
    const claimedMb = typeof memoryMb === 'number' && memoryMb > 0 ? memoryMb : limitMb
    const deliver: FetchDeliver = (fetchId, part) =>
      new Promise<boolean>((resolve) => {
        const ack = ++this.#ackSeq
        this.#acks.set(ack, resolve)
        this.#send({ t: 'fetched', session, id: fetchId, part, ack })
      })
    let fetcher = this.#fetches.get(session)
    if (!fetcher) {
      // Past a bound, the worker is not closing its sessions: the oldest goes.
      if (this.#fetches.size >= 4096) {
        const [oldest] = this.#fetches
        oldest?.[1].close()
        if (oldest) this.#fetches.delete(oldest[0])
      }
      fetcher = new CallFetch(session, egressPolicy(hosts), String(pool), Math.min(claimedMb, limitMb), deliver)
      this.#fetches.set(session, fetcher)
    }
    fetcher.start(session, id, parts[0], parts[1], parts[2], parts[3])
  }

  /**
   * A call was answered for a limit. Its isolate was told to stop; a builtin
   * V8 cannot interrupt keeps its thread. If, over the next STUCK_WINDOW_MS,
   * more of this worker's threads burn a core than it has calls in flight,
   * that work did not stop: the worker is killed (and replaced).
   */
  async #checkStopped(child: ChildProcess, module: string): Promise<void> {
    const pid = child.pid
    if (pid === undefined) return
    const busy = await threadsBusyThroughout(pid, STUCK_SAMPLES, STUCK_WINDOW_MS / STUCK_SAMPLES)
    if (child !== this.#child || this.#state !== 'ready') return
    if (busy > this.inFlight)
      this.#kill('a call answered for its limit was still running (V8 could not interrupt it)', module)
  }

  /** Resolves once every check begun so far (that answered work stopped) has decided. */
  async checked(): Promise<void> {
    await Promise.all([...this.#checks])
  }

  #kill(reason: string, culprit: string | undefined): void {
    this.#killedFor ??= { reason, culprit }
    this.#child?.kill('SIGKILL')
  }

  /** Ends the worker process now (tests: a crash under load). */
  kill(): void {
    this.#child?.kill('SIGKILL')
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child) return
    this.#child = undefined
    for (const fetcher of this.#fetches.values()) fetcher.close()
    this.#fetches.clear()
    for (const resolve of this.#acks.values()) resolve(false)
    this.#acks.clear()
    const killed = this.#killedFor
    const how = signal ? `signal ${signal}` : `exit code ${code}`
    const memory =
      killed === undefined &&
      (OOM_TEXT.test(this.#stderr) || (this.#plan !== undefined && cgroupOomKilled(this.#plan, this.name)))
    // A fatal error of the process itself, not an end from outside (kill -9, a shutdown).
    const fatal = killed === undefined && (memory || (signal === null ? code !== 0 : !ENDED_FROM_OUTSIDE.has(signal)))
    if (this.#plan) removeWorkerCgroup(this.#plan, this.name)
    const reason = killed?.reason ?? (memory ? `out of memory, ${how}` : how)
    const calls = [...this.#pending].filter((e): e is [number, PendingInvoke] => e[1].kind === 'invoke')
    const checks = [...this.#pending].filter((e): e is [number, PendingValidate] => e[1].kind === 'validate')
    this.#pending.clear()
    this.inFlight = 0
    this.busy.clear()
    // The call that caused it: the only function version with calls here (its oldest call).
    const versions = new Set(calls.map(([, c]) => `${c.params.module}\0${c.params.version}`))
    const culprit = fatal && versions.size === 1 ? calls[0] : undefined
    for (const [, call] of calls) {
      call.done()

      const { functionName } = call.params
      if (call === culprit?.[1]) {
        const error = memory
          ? new OsirisError(
              'RESOURCE_EXHAUSTED',
              `function "${functionName}" ran out of memory past its ${this.#options.memoryMbOf(call.params)} MiB limit in a way V8 could not contain (its worker process died and was replaced)`,
            )
          : new OsirisError(
              'RESOURCE_EXHAUSTED',
              `function "${functionName}" crashed its worker process (${how}); the worker was replaced`,
            )
        if (memory) error.breach = 'memory'
        call.reject(error)
      } else {
        call.reject(
          unavailable(`${this.name} died (${reason}) while this call was in flight; it may have run`, 'maybe'),
        )
      }
    }
    for (const [, check] of checks) {
      if (checks.length === 1 && fatal) {
        const error = memory
          ? new OsirisError(
              'RESOURCE_EXHAUSTED',
              `${check.filename}: its top-level code ran out of memory in a way V8 could not contain (the checking worker died)`,
            )
          : new OsirisError(
              'INVALID_ARGUMENT',
              `${check.filename} failed while loading: it crashed the checking worker (${how})`,
            )
        if (memory) error.breach = 'memory'
        check.reject(error)
      } else {
        check.reject(
          unavailable(`${this.name} died (${reason}) while checking ${check.filename}; deploy again`, undefined),
        )
      }
    }
    if (this.#state === 'closed') return
    this.#state = 'restarting'
    this.#ready = Promise.withResolvers<void>()
    this.poolReady = 0
    this.instances = []
    this.#options.onChange()
    if (calls.length > 0 || checks.length > 0 || killed || code !== 0) {
      this.#options.onCrash({
        worker: this.index,
        suspects: [...new Set(calls.map(([, c]) => c.params.module))],
        culprit: killed?.culprit ?? culprit?.[1].params.module,
        memory,
        reason,
      })
    }
    // Backoff: 50 ms after a first death, doubling with each within the last minute, at most 5 s.
    const now = Date.now()
    this.#crashes.push(now)
    while (this.#crashes.length > 0 && (this.#crashes[0] ?? now) < now - 60_000) this.#crashes.shift()
    const delay = Math.min(5000, 50 * 2 ** (this.#crashes.length - 1))
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined
      if (this.#state === 'restarting') this.#spawn()
    }, delay)
  }

  /** Lets calls in flight finish (up to `graceMs`), then ends the process. Idempotent. */
  async close(graceMs: number): Promise<void> {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    clearTimeout(this.#restartTimer)
    this.#ready.reject(new OsirisError('CLOSED', 'this host is shutting down'))
    this.#ready.promise.catch(() => {})
    const child = this.#child
    if (!child) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    this.#killedFor = { reason: 'the host is shutting down', culprit: undefined }
    this.#send({ t: 'close', graceMs })
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs + 2000)
    await exited
    clearTimeout(timer)
  }
}

function unavailable(message: string, started: 'never' | 'maybe' | undefined): OsirisError {
  const error = new OsirisError('UNAVAILABLE', message)
  if (started) error.started = started
  return error
}

function cancelled(message: string, started: 'never' | 'maybe'): OsirisError {
  const error = new OsirisError('CANCELLED', message)
  error.started = started
  return error
}
