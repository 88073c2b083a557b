// Runs functions of container runtimes (Python first) on a Docker-compatible
// engine: takes a generic container from its runtime's warm pool on a function
// version's first call here, loads the code into it, keeps it warm for later
// calls, and removes containers that break a limit, die, or idle out.
import { randomUUID } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import type { Executor, ExecutorStatus, InvokeParams, InvokeResult } from '@osiris/isolate-host'
import { OsirisError, type ValidateResponse } from '@osiris/proto'
import { LABEL_EXECUTOR, RuntimeContainer } from './container.ts'
import { DockerClient } from './docker-client.ts'
import {
  type CallContext,
  compileError,
  deadlineError,
  endingError,
  loadError,
  poisons,
  readCallAnswer,
} from './error-mapping.ts'
import { removeLeftovers } from './leftovers.ts'
import { type ContainerExecutorOptions, type ResolvedContainerOptions, resolveContainerOptions } from './options.ts'
import { type RuntimeSpec, runtimeSpec } from './runtimes.ts'
import { ChannelClosed, type ShimAnswer } from './shim-channel.ts'
import { ContainerPool } from './warm-pool.ts'

const DEFAULT_TIMEOUT_MS = 30_000

export class ContainerExecutor implements Executor {
  readonly runtimes: readonly string[]
  readonly options: ResolvedContainerOptions
  /** This executor's label value: its containers, and only they, carry it. */
  readonly id = randomUUID()
  readonly docker: DockerClient
  readonly #specs = new Map<string, RuntimeSpec>()
  readonly #pools = new Map<string, ContainerPool>()
  /** Function containers by deployment version. */
  readonly #instances = new Map<number, RuntimeContainer[]>()
  /** Containers starting outside the pools (the pool was empty). */
  #startingOutside = 0
  readonly #ready: Promise<void>
  readonly #sweeper: NodeJS.Timeout
  #inFlight = 0
  #closing: Promise<void> | undefined
  #drained: (() => void) | undefined

  constructor(input: ContainerExecutorOptions) {
    this.options = resolveContainerOptions(input)
    for (const name of this.options.runtimes) {
      const spec = runtimeSpec(name)
      if (!spec) throw new OsirisError('INVALID_ARGUMENT', `unknown container runtime "${name}"`)
      this.#specs.set(name, spec)
    }
    this.runtimes = Object.freeze([...this.#specs.keys()])
    this.docker = new DockerClient(this.options.socketPath)
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
    this.#ready = (async () => {
      await mkdir(runDir, { recursive: true, mode: 0o755 })
      await removeLeftovers(docker, runDir)
      for (const pool of pools) pool.refill()
    })()
    this.#ready.catch(() => {})
    const ttl = this.options.idleTtlMs
    this.#sweeper = setInterval(() => this.#sweepIdle(), Math.min(1000, Math.max(10, ttl / 4)))
    this.#sweeper.unref()
  }

  /** Resolves once leftovers are removed and the pools have started filling. */
  ready(): Promise<void> {
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
    for (const list of this.#instances.values()) n += list.length
    return n
  }

  #startContainer(spec: RuntimeSpec, memoryMb = this.options.limits.memoryMb): Promise<RuntimeContainer> {
    return RuntimeContainer.start({
      docker: this.docker,
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
    await this.#ready
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
      answer = await this.#within(container, this.options.loadTimeoutMs, () =>
        container.request({ op: 'check', filename, code: source }),
      )
    } catch (error) {
      void container.remove()
      if (error instanceof OsirisError) throw error
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
    const started = performance.now()
    const spec = this.#spec(runtimeOf(params, this.runtimes))
    const memoryMb = params.limits?.memoryMb ?? this.options.limits.memoryMb
    const timeoutMs = Math.min(params.timeoutMs || DEFAULT_TIMEOUT_MS, params.limits?.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    const ctx: CallContext = {
      module: params.module,
      version: params.version,
      functionName: params.functionName,
      memoryMb,
      timeoutMs,
    }
    const deadline = started + timeoutMs
    this.#inFlight++
    let container = this.#idle(params.version, memoryMb)
    const coldStart = container === undefined
    try {
      if (container) container.busy = true
      else {
        const code = await this.options.code(params.codeHash)
        container = await this.#generic(spec, memoryMb)
        container.busy = true
        await this.#load(container, spec, params, ctx, deadline, code)
      }
      this.options.onChange()
      const answer = await this.#call(container, ctx, deadline, params)
      this.#forwardLogs(answer, params)
      if (poisons(answer)) void container.remove()
      const result = readCallAnswer(ctx, answer)
      return { result, coldStart, durationUs: Math.round((performance.now() - started) * 1000) }
    } finally {
      this.#inFlight--
      if (container) this.#release(container)
      this.options.onChange()
      if (this.#inFlight === 0) this.#drained?.()
    }
  }

  #idle(version: number, memoryMb: number): RuntimeContainer | undefined {
    return this.#instances.get(version)?.find((c) => !c.busy && c.state === 'specialized' && c.memoryMb === memoryMb)
  }

  /** Specializes a generic container: the module's code is loaded into its shim (its top level runs). */
  async #load(
    container: RuntimeContainer,
    spec: RuntimeSpec,
    params: InvokeParams,
    ctx: CallContext,
    deadline: number,
    code: string,
  ): Promise<void> {
    container.deployment = { module: params.module, version: params.version, codeHash: params.codeHash }
    container.state = 'specialized'
    this.#track(container)
    const filename = `${params.module}${spec.extension}`
    const answer = await this.#within(container, deadline - performance.now(), () =>
      container.request({ op: 'load', module: params.module, filename, code }),
    ).catch(async (error: unknown) => {
      throw await this.#failure(container, ctx, error)
    })
    if (answer.loaded === true) return
    void container.remove()
    if ('error' in answer) throw loadError(ctx, answer)
    throw compileError(filename, answer) ?? new OsirisError('INTERNAL', `the shim could not load ${filename}`)
  }

  #call(container: RuntimeContainer, ctx: CallContext, deadline: number, params: InvokeParams): Promise<ShimAnswer> {
    return this.#within(container, deadline - performance.now(), () =>
      container.request({ op: 'call', fn: params.functionName, args: params.args }),
    ).catch(async (error: unknown) => {
      throw await this.#failure(container, ctx, error)
    })
  }

  /** Runs a shim request under a wall-clock limit that kills the container when it fires. */
  #within(container: RuntimeContainer, ms: number, request: () => Promise<ShimAnswer>): Promise<ShimAnswer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          reject(new DeadlineHit())
          void container.remove()
        },
        Math.max(0, ms),
      )
      request().then(
        (answer) => {
          clearTimeout(timer)
          resolve(answer)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }

  /** A request that failed → the call's error; the container is removed either way. */
  async #failure(container: RuntimeContainer, ctx: CallContext, error: unknown): Promise<Error> {
    if (error instanceof DeadlineHit) return deadlineError(ctx)
    if (error instanceof ChannelClosed) {
      const ending = await container.ending()
      void container.remove()
      return endingError(ctx, ending)
    }
    void container.remove()
    return error instanceof Error ? error : new Error(String(error))
  }

  #track(container: RuntimeContainer): void {
    const version = container.deployment?.version ?? 0
    const list = this.#instances.get(version) ?? []
    list.push(container)
    this.#instances.set(version, list)
    // A container that dies while idle (killed from outside) leaves at once.
    container.onGone = () => {
      if (!container.busy) this.#untrack(container)
    }
  }

  #untrack(container: RuntimeContainer): void {
    void container.remove()
    const version = container.deployment?.version ?? 0
    const list = this.#instances.get(version)?.filter((c) => c !== container) ?? []
    if (list.length > 0) this.#instances.set(version, list)
    else this.#instances.delete(version)
    this.options.onChange()
    for (const pool of this.#pools.values()) pool.refill()
  }

  #release(container: RuntimeContainer): void {
    container.busy = false
    container.lastUsedMs = Date.now()
    if (container.retired || container.state === 'gone') this.#untrack(container)
  }

  /** Keeps the container count under its cap by removing the least recently used idle one. */
  #makeRoom(): void {
    if (this.#count() < this.options.maxContainers) return
    const idle = [...this.#instances.values()]
      .flat()
      .filter((c) => !c.busy)
      .sort((a, b) => a.lastUsedMs - b.lastUsedMs)[0]
    if (!idle) {
      throw new OsirisError(
        'RESOURCE_EXHAUSTED',
        `host is at its limit of ${this.options.maxContainers} containers, all busy`,
      )
    }
    this.#untrack(idle)
  }

  #forwardLogs(answer: ShimAnswer, params: InvokeParams): void {
    if (!Array.isArray(answer.logs)) return
    for (const entry of answer.logs as unknown[]) {
      const e = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {}
      this.options.onLog({
        timeMs: Date.now(),
        level: e.level === 'error' ? 'error' : e.level === 'warn' ? 'warn' : 'info',
        line: typeof e.line === 'string' ? e.line : '',
        module: params.module,
        version: params.version,
        functionName: params.functionName,
        callId: params.callId,
      })
    }
  }

  evict(module: string, beforeVersion: number): void {
    for (const list of [...this.#instances.values()]) {
      for (const container of list) {
        const d = container.deployment
        if (!d || d.module !== module || (beforeVersion !== 0 && d.version >= beforeVersion)) continue
        if (container.busy) container.retired = true
        else this.#untrack(container)
      }
    }
  }

  #sweepIdle(): void {
    const cutoff = Date.now() - this.options.idleTtlMs
    for (const list of [...this.#instances.values()]) {
      for (const container of list) if (!container.busy && container.lastUsedMs <= cutoff) this.#untrack(container)
    }
  }

  /** Engine ids of the containers specialized for `version` (for operators and tests). */
  containersOf(version: number): string[] {
    return (this.#instances.get(version) ?? []).map((c) => c.id)
  }

  status(): ExecutorStatus {
    const instances = [...this.#instances].map(([version, list]) => ({
      module: list[0]?.deployment?.module ?? '',
      version,
      busy: list.filter((c) => c.busy).length,
      idle: list.filter((c) => !c.busy).length,
    }))
    let poolReady = 0
    let poolTarget = 0
    for (const pool of this.#pools.values()) {
      poolReady += pool.size
      poolTarget += pool.target
    }
    return { poolReady, poolTarget, inFlight: this.#inFlight, instances }
  }

  #open(): void {
    if (this.#closing) throw new OsirisError('CLOSED', 'this host is shutting down; the call did not start')
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
      await Promise.all([...this.#instances.values()].flat().map((c) => c.remove()))
      this.#instances.clear()
      // Anything still labelled ours (a start that raced the close) goes too.
      const left = await this.docker.listContainers([this.label]).catch(() => [])
      await Promise.all(left.map((c) => this.docker.removeContainer(c.Id).catch(() => {})))
      await this.docker.close()
    })()
    return this.#closing
  }
}

class DeadlineHit extends Error {}

function runtimeOf(params: InvokeParams, runtimes: readonly string[]): string {
  // The host hands over the whole InvokeRequest, which names the runtime.
  const named: unknown = (params as InvokeParams & { runtime?: unknown }).runtime
  if (typeof named === 'string' && named !== '') return named
  if (runtimes.length === 1 && runtimes[0]) return runtimes[0]
  throw new OsirisError('INVALID_ARGUMENT', 'the call does not name its runtime')
}

function readFunctions(answer: ShimAnswer): ValidateResponse['functions'] {
  if (!Array.isArray(answer.functions)) throw new OsirisError('INTERNAL', 'the shim answered no function list')
  return (answer.functions as unknown[]).map((f) => {
    const fn = f as { name?: unknown; params?: unknown }
    const params = Array.isArray(fn.params) ? (fn.params as Record<string, unknown>[]) : []
    return {
      name: String(fn.name),
      params: params.map((p) => ({ name: String(p.name), optional: p.optional === true, rest: p.rest === true })),
    }
  })
}
