// Runs functions of container runtimes (Python first) on a Docker-compatible
// engine: takes a generic container from its runtime's warm pool on a function
// version's first call here, loads the code into it, keeps it warm for later
// calls, and removes containers that break a limit, die, or idle out.
import { randomUUID } from 'node:crypto'
import { chmod, mkdir, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Executor, ExecutorStatus, InvokeParams, InvokeResult } from '@osiris/isolate-host'
import {
  type CallLimits,
  checkResult,
  defaultLimits,
  LOG_MARKER_SLACK,
  LogBudget,
  notStarted,
  OsirisError,
  resolveLimits,
  type ValidateResponse,
} from '@osiris/proto'
import { CallCancelled, DeadlineHit, LABEL_EXECUTOR, RuntimeContainer } from './container.ts'
import { DockerClient } from './docker-client.ts'
import { EngineEvents } from './engine-events.ts'
import {
  type CallContext,
  compileError,
  deadlineError,
  endingError,
  loadError,
  poisons,
  readCallAnswer,
  readFunctions,
  readLogEntry,
} from './error-mapping.ts'
import { FunctionContainers } from './function-containers.ts'
import { removeLeftovers } from './leftovers.ts'
import { type ContainerExecutorOptions, type ResolvedContainerOptions, resolveContainerOptions } from './options.ts'
import { type RuntimeSpec, runtimeSpec } from './runtimes.ts'
import { ChannelClosed, type ShimAnswer } from './shim-channel.ts'
import { ContainerPool } from './warm-pool.ts'

/** How long past its deadline a call whose container died waits for the engine to say how. */
const DIE_GRACE_MS = 1000

export class ContainerExecutor implements Executor {
  readonly runtimes: readonly string[]
  readonly options: ResolvedContainerOptions
  /** This executor's label value: its containers, and only they, carry it. */
  readonly id = randomUUID()
  readonly docker: DockerClient
  readonly #specs = new Map<string, RuntimeSpec>()
  readonly #pools = new Map<string, ContainerPool>()
  readonly #instances: FunctionContainers
  readonly #events = new EngineEvents()
  /** The platform's limits with this executor's memory default, for limits a call leaves unset. */
  readonly #defaultLimits: Readonly<CallLimits>
  /** Containers starting outside the pools (the pool was empty). */
  #startingOutside = 0
  #ready: Promise<void>
  readonly #prepare: () => Promise<void>
  readonly #sweeper: NodeJS.Timeout
  #inFlight = 0
  #closing: Promise<void> | undefined
  #drained: (() => void) | undefined

  constructor(input: ContainerExecutorOptions) {
    this.options = resolveContainerOptions(input)
    this.#defaultLimits = Object.freeze({ ...defaultLimits(), memoryMb: this.options.limits.memoryMb })
    for (const name of this.options.runtimes) {
      const spec = runtimeSpec(name)
      if (!spec) throw new OsirisError('INVALID_ARGUMENT', `unknown container runtime "${name}"`)
      this.#specs.set(name, spec)
    }
    this.runtimes = Object.freeze([...this.#specs.keys()])
    this.docker = new DockerClient(this.options.socketPath)
    this.#instances = new FunctionContainers(() => {
      this.options.onChange()
      for (const pool of this.#pools.values()) pool.refill()
    })
    for (const spec of this.#specs.values()) {
      this.#pools.set(
        spec.name,
        new ContainerPool({
          runtime: spec.name,
          target: this.options.poolTarget,
          start: () => this.#startContainer(spec),
          hasRoom: () => this.#count() < this.options.maxContainers,
          onChange: this.options.onChange,
          onError: (error) => process.stderr.write(`container pool ${spec.name}: ${error.message}\n`),
        }),
      )
    }
    // Leftovers of an executor that died without closing go before anything new starts.
    const { runDir } = this.options
    const docker = this.docker
    const pools = [...this.#pools.values()]
    const events = this.#events
    const label = this.label
    this.#prepare = async () => {
      // Traversable, not listable: other local users cannot find the per-container sockets.
      await mkdir(runDir, { recursive: true, mode: 0o711 })
      await chmod(runDir, 0o711).catch(() => {})
      await removeLeftovers(docker, runDir)
      // Listening first: containers are auto-removed, so how one ended is only ever told as it happens.
      await events.listen(docker, label)
      for (const pool of pools) pool.refill()
    }
    this.#ready = this.#prepare()
    this.#ready.catch(() => {})
    const ttl = this.options.idleTtlMs
    this.#sweeper = setInterval(() => this.#sweepIdle(), Math.min(1000, Math.max(10, ttl / 4)))
    this.#sweeper.unref()
  }

  /**
   * Resolves once leftovers are removed, the engine's events are followed and
   * the pools have started filling. After a failure (the engine was down) the
   * next call tries again.
   */
  ready(): Promise<void> {
    this.#ready = this.#ready.catch(() => this.#prepare())
    return this.#ready
  }

  /** The engine label selecting this executor's containers. */
  get label(): string {
    return `${LABEL_EXECUTOR}=${this.id}`
  }

  image(spec: RuntimeSpec): string {
    return this.options.images[spec.name] ?? spec.image
  }

  #spec(runtime: string): RuntimeSpec {
    const spec = this.#specs.get(runtime)
    if (!spec) throw new OsirisError('UNAVAILABLE', `this host does not run runtime "${runtime}" in containers`)
    return spec
  }

  #count(): number {
    let n = this.#startingOutside
    for (const pool of this.#pools.values()) n += pool.held
    return n + this.#instances.count
  }

  #startContainer(spec: RuntimeSpec, memoryMb = this.options.limits.memoryMb): Promise<RuntimeContainer> {
    return RuntimeContainer.start({
      docker: this.docker,
      events: this.#events,
      runtime: spec,
      image: this.image(spec),
      limits: { ...this.options.limits, memoryMb },
      user: this.options.user,
      runDir: this.options.runDir,
      executorId: this.id,
      startTimeoutMs: this.options.startTimeoutMs,
    })
  }

  /** A generic container: from the pool, else started now (the cap permitting). */
  async #generic(spec: RuntimeSpec, memoryMb: number): Promise<RuntimeContainer> {
    await this.ready()
    const pool = this.#pools.get(spec.name)
    if (memoryMb === this.options.limits.memoryMb) {
      let container = pool?.take()
      while (container && container.state === 'gone') {
        pool?.drop(container)
        container = pool?.take()
      }
      if (container) return container
    }
    this.#makeRoom()
    this.#startingOutside++
    try {
      return await this.#startContainer(spec, memoryMb)
    } finally {
      this.#startingOutside--
    }
  }

  async validate(runtime: string, source: string, given: string): Promise<ValidateResponse> {
    this.#open()
    const spec = this.#spec(runtime)
    // The controller names the file module.runtime; messages and tracebacks read better as module.py.
    const filename = given.endsWith(`.${spec.name}`)
      ? `${given.slice(0, -spec.name.length - 1)}${spec.extension}`
      : given
    const container = await this.#generic(spec, this.options.limits.memoryMb)
    let answer: ShimAnswer
    try {
      container.busy = true
      answer = await container.requestWithin(this.options.loadTimeoutMs, { op: 'check', filename, code: source })
    } catch (error) {
      void container.remove()
      if (error instanceof OsirisError) throw error
      if (error instanceof DeadlineHit) {
        throw new OsirisError(
          'DEADLINE_EXCEEDED',
          `checking ${filename} took longer than ${this.options.loadTimeoutMs} ms; its container was killed`,
        )
      }
      throw new OsirisError('UNAVAILABLE', `checking ${filename} failed: its container ended`)
    }
    // Checking only parses the module, so the container is still generic.
    this.#pools.get(spec.name)?.give(container)
    const compile = compileError(filename, answer)
    if (compile) throw compile
    const functions = readFunctions(answer)
    if (functions.length === 0) {
      throw new OsirisError('INVALID_ARGUMENT', `${filename} defines no public top-level functions to deploy`)
    }
    this.options.keepCode(source)
    return { code: source, functions }
  }

  async invoke(params: InvokeParams): Promise<InvokeResult> {
    this.#open()
    if (params.signal?.aborted) {
      throw notStarted('CANCELLED', `call of "${params.functionName}" was cancelled before it started`)
    }
    const started = performance.now()
    const spec = this.#spec(runtimeOf(params, this.runtimes))
    const limits = resolveLimits(params.limits, this.#defaultLimits)
    const memoryMb = limits.memoryMb
    // The caller's deadline when it set one (0 is unset on the wire), the function's own when shorter.
    const callerDeadline = params.timeoutMs > 0 && params.timeoutMs < limits.timeoutMs
    const timeoutMs = callerDeadline ? params.timeoutMs : limits.timeoutMs
    const ctx: CallContext = {
      module: params.module,
      version: params.version,
      functionName: params.functionName,
      memoryMb,
      timeoutMs,
      cpuMs: limits.cpuMs,
      callerDeadline,
      startedMs: started,
    }
    const deadline = started + timeoutMs
    const sink = this.#logSink(params, limits.maxLogBytes)
    this.#inFlight++
    let container = this.#instances.idle(params, memoryMb)
    const coldStart = container === undefined
    const micros = (from: number): number => Math.round((performance.now() - from) * 1000)
    let codeFetchUs = 0
    let startUs = 0
    try {
      if (container) container.busy = true
      else {
        const code = await this.options.code(params.codeHash)
        codeFetchUs = micros(started)
        container = await this.#generic(spec, memoryMb)
        container.busy = true
        await this.#load(container, spec, params, ctx, deadline, code, sink)
        startUs = micros(started) - codeFetchUs
      }
      this.options.onChange()
      const running = performance.now()
      const answer = await this.#call(container, ctx, deadline, params, sink)
      const executionUs = micros(running)
      this.#forwardLogs(answer, sink)
      // A call that left a thread behind (the shim says so and exits): the container goes.
      if (poisons(answer) || answer.recycle === true) void container.remove()
      const result = readCallAnswer(ctx, answer)
      // The shim runs in the function's process (it can replace json.dumps): checked here, whatever it said.
      checkResult(params.functionName, result, limits)
      return { result, coldStart, durationUs: micros(started), codeFetchUs, startUs, executionUs }
    } finally {
      this.#inFlight--
      if (container) this.#instances.release(container)
      this.options.onChange()
      if (this.#inFlight === 0) this.#drained?.()
    }
  }

  /** Specializes a generic container: the module's code is loaded into its shim (its top level runs). */
  async #load(
    container: RuntimeContainer,
    spec: RuntimeSpec,
    params: InvokeParams,
    ctx: CallContext,
    deadline: number,
    code: string,
    sink: (entry: unknown) => void,
  ): Promise<void> {
    container.deployment = { module: params.module, version: params.version, codeHash: params.codeHash }
    container.state = 'specialized'
    this.#instances.add(container)
    const filename = `${params.module}${spec.extension}`
    const answer = await container
      .requestWithin(
        deadline - performance.now(),
        { op: 'load', module: params.module, filename, code },
        sink,
        params.signal,
      )
      .catch(async (error: unknown) => {
        throw await this.#failure(container, ctx, deadline, error)
      })
    if (answer.loaded === true) return
    void container.remove()
    if ('error' in answer) throw loadError(ctx, answer)
    throw compileError(filename, answer) ?? new OsirisError('INTERNAL', `the shim could not load ${filename}`)
  }

  #call(
    container: RuntimeContainer,
    ctx: CallContext,
    deadline: number,
    params: InvokeParams,
    sink: (entry: unknown) => void,
  ): Promise<ShimAnswer> {
    return container
      .requestWithin(
        deadline - performance.now(),
        { op: 'call', fn: params.functionName, args: params.args, cpuMs: ctx.cpuMs },
        sink,
        params.signal,
      )
      .catch(async (error: unknown) => {
        throw await this.#failure(container, ctx, deadline, error)
      })
  }

  /** A request that failed → the call's error; the container is removed either way. */
  async #failure(container: RuntimeContainer, ctx: CallContext, deadline: number, error: unknown): Promise<Error> {
    if (error instanceof DeadlineHit) return deadlineError(ctx)
    if (error instanceof CallCancelled) {
      return new OsirisError(
        'CANCELLED',
        `call of "${ctx.functionName}" was cancelled by its caller; its container was killed`,
      )
    }
    if (error instanceof ChannelClosed) {
      // The engine's "die" comes within ms of the socket closing. It is waited for until the call's
      // deadline (at least DIE_GRACE_MS); after that the caller hears "it is gone" rather than wait on a quiet engine.
      const ending = await container.ending(Math.max(DIE_GRACE_MS, deadline - performance.now()))
      void container.remove()
      return endingError(ctx, ending)
    }
    void container.remove()
    return error instanceof Error ? error : new Error(String(error))
  }

  /** Keeps the container count under its cap by removing the least recently used idle one. */
  #makeRoom(): void {
    if (this.#count() < this.options.maxContainers) return
    const idle = this.#instances.leastRecentlyUsed()
    if (!idle) {
      throw new OsirisError(
        'RESOURCE_EXHAUSTED',
        `host is at its limit of ${this.options.maxContainers} containers, all busy`,
      )
    }
    this.#instances.drop(idle)
  }

  /** Log lines that came with the shim's answer (the exec shim's), through the call's sink. */
  #forwardLogs(answer: ShimAnswer, sink: (entry: unknown) => void): void {
    if (Array.isArray(answer.logs)) for (const entry of answer.logs as unknown[]) sink(entry)
  }

  /**
   * Takes a call's log lines: streamed by the shim while the call runs (so
   * lines printed before a kill arrive too) or in its answer, within the
   * call's budget in bytes, enforced here whatever the shim cut (what a shim
   * sends is tenant-controlled; an exec script's stderr is not cut at all):
   * the last line cut to fit, then one marker line.
   */
  #logSink(params: InvokeParams, maxLogBytes: number): (entry: unknown) => void {
    const budget = new LogBudget(maxLogBytes, LOG_MARKER_SLACK)
    return (entry) => {
      if (budget.truncated) return
      const checked = readLogEntry(entry)
      for (const kept of budget.take(checked.level, checked.line)) this.#log(kept, params)
    }
  }

  #log({ level, line }: { level: 'info' | 'warn' | 'error'; line: string }, params: InvokeParams): void {
    const { module, version, functionName, callId } = params
    this.options.onLog({ timeMs: Date.now(), level, line, module, version, functionName, callId })
  }

  evict(module: string, beforeVersion: number): void {
    this.#instances.evict(module, beforeVersion)
  }

  #sweepIdle(): void {
    this.#instances.sweep(Date.now() - this.options.idleTtlMs)
  }

  /** Engine ids of the containers specialized for `version` (for operators and tests). */
  containersOf(version: number): string[] {
    return this.#instances.ids(version)
  }

  status(): ExecutorStatus {
    const instances = this.#instances.status()
    let poolReady = 0
    let poolTarget = 0
    for (const pool of this.#pools.values()) {
      poolReady += pool.size
      poolTarget += pool.target
    }
    return { poolReady, poolTarget, inFlight: this.#inFlight, instances }
  }

  #open(): void {
    if (this.#closing) throw notStarted('CLOSED', 'this host is shutting down; the call did not start')
  }

  /** Waits for in-flight calls (up to `graceMs`), then removes every container it started. Idempotent. */
  close(graceMs = 5000): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#sweeper)
      if (this.#inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs)
          this.#drained = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
      await this.#ready.catch(() => {})
      await Promise.all([...this.#pools.values()].map((p) => p.close()))
      await this.#instances.removeAll()
      // Anything still labelled ours (a start that raced the close) goes too.
      const left = await this.docker.listContainers([this.label]).catch(() => [])
      await Promise.all(left.map((c) => this.docker.removeContainer(c.Id).catch(() => {})))
      this.#events.close()
      await this.docker.close()
      // This process's socket directory, unless another executor here still uses it.
      await rmdir(join(this.options.runDir, String(process.pid))).catch(() => {})
    })()
    return this.#closing
  }
}

function runtimeOf(params: InvokeParams, runtimes: readonly string[]): string {
  if (params.runtime) return params.runtime
  if (runtimes.length === 1 && runtimes[0]) return runtimes[0]
  throw new OsirisError('INVALID_ARGUMENT', 'the call does not name its runtime')
}
