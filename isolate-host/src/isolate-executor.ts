// Runs JS/TS functions in V8 isolates: takes a generic isolate from the warm
// pool on a function version's first call here, keeps the specialized
// instance warm for later calls, and disposes instances that break a limit.
import { type CallLimits, defaultLimits, notStarted, OsirisError, resolveLimits } from '@osiris/proto'
import type { CodeCache } from './code-cache.ts'
import { egressPolicy } from './egress.ts'
import {
  type Executor,
  type ExecutorStatus,
  type InvokeParams,
  type InvokeResult,
  type LogEntry,
  microsSince,
} from './executor.ts'
import { GenericIsolate } from './generic-isolate.ts'
import { FunctionInstance } from './instance.ts'
import { ISOLATE_RUNTIMES, validateModule } from './validate.ts'
import { WarmPool } from './warm-pool.ts'

export interface IsolateExecutorOptions {
  poolTarget: number
  memoryLimitMb: number
  /** Most function instances held at once; idle ones are disposed first to make room. */
  maxInstances: number
  /** Limit for a module's top-level code at deploy and at specialization, in ms. */
  loadTimeoutMs: number
  /** Instances idle this long are disposed (scale to zero), ms. Default 300000. */
  idleTtlMs?: number
  codeCache: CodeCache
  onLog: (entry: LogEntry) => void
  onChange: () => void
}

interface CurrentCall {
  functionName: string
  callId: string
}

export class IsolateExecutor implements Executor {
  readonly runtimes = ISOLATE_RUNTIMES
  readonly #options: IsolateExecutorOptions
  readonly #pool: WarmPool
  /** Warm instances by deployment version; one module version per entry. */
  readonly #instances = new Map<number, FunctionInstance[]>()
  readonly #current = new WeakMap<FunctionInstance, CurrentCall>()
  readonly #defaultLimits: Readonly<CallLimits>
  #inFlight = 0
  /** When each instance last took a call, as a running count (least recently used goes first). */
  readonly #lastUse = new WeakMap<FunctionInstance, number>()
  #uses = 0
  /** Specializations under way: instances about to exist, counted against the cap. */
  #specializing = 0
  #lastStartMs = 0
  readonly #sweeper: NodeJS.Timeout
  readonly #idleTtlMs: number
  #closed = false
  #drained: (() => void) | undefined

  constructor(options: IsolateExecutorOptions) {
    this.#options = options
    this.#defaultLimits = defaultLimits({ memoryMb: options.memoryLimitMb })
    this.#pool = new WarmPool({
      target: options.poolTarget,
      memoryLimitMb: options.memoryLimitMb,
      onChange: options.onChange,
      busy: () => this.#inFlight > 0,
    })
    this.#idleTtlMs = options.idleTtlMs ?? 300_000
    this.#sweeper = setInterval(() => this.#sweepIdle(), Math.min(1000, Math.max(10, this.#idleTtlMs / 4)))
    this.#sweeper.unref()
  }

  get pool(): WarmPool {
    return this.#pool
  }

  /** `stripped`: for `ts`, the JavaScript already stripped from `source` (validate.ts). */
  async validate(runtime: string, source: string, filename: string, stripped?: string) {
    const response = await validateModule(runtime, source, filename, {
      memoryLimitMb: this.#options.memoryLimitMb,
      timeoutMs: this.#options.loadTimeoutMs,
      ...(stripped === undefined ? {} : { stripped }),
    })
    this.#options.codeCache.put(response.code)
    return response
  }

  async invoke(params: InvokeParams): Promise<InvokeResult> {
    // Refusals before the call starts say so: the controller may send it elsewhere.
    if (this.#closed) throw notStarted('CLOSED', 'this host is shutting down; the call did not start')
    if (params.signal?.aborted)
      throw notStarted('CANCELLED', `call of "${params.functionName}" was cancelled before it started`)
    const started = performance.now()
    this.#lastStartMs = started
    this.#inFlight++
    let instance: FunctionInstance | undefined
    try {
      const resolved = resolveLimits(params.limits, this.#defaultLimits)
      // The caller's deadline (0: none) applies when sooner than the function's own limit.
      const callerDeadline = params.timeoutMs > 0 && params.timeoutMs < resolved.timeoutMs
      const limits = callerDeadline ? { ...resolved, timeoutMs: params.timeoutMs } : resolved
      instance = this.#idleInstance(params, limits.memoryMb)
      const coldStart = instance === undefined
      let codeFetchUs = 0
      let startUs = 0
      if (!instance) {
        const code = await this.#options.codeCache.get(params.codeHash)
        codeFetchUs = microsSince(started)
        instance = await this.#specialize(params, code, limits.memoryMb)
        startUs = microsSince(started) - codeFetchUs
      }
      instance.busy = true
      this.#lastUse.set(instance, ++this.#uses)
      this.#current.set(instance, { functionName: params.functionName, callId: params.callId })
      this.#options.onChange()
      const egress = egressPolicy(params.egressAllow)
      const running = performance.now()
      const result = await instance.call(
        params.functionName,
        params.args,
        limits,
        egress,
        callerDeadline,
        params.signal,
      )
      const executionUs = microsSince(running)
      return { result, coldStart, durationUs: microsSince(started), codeFetchUs, startUs, executionUs }
    } finally {
      this.#inFlight--
      if (instance) {
        instance.busy = false
        if (instance.retired) instance.dispose()
        if (instance.disposed) this.#remove(instance)
      }
      this.#options.onChange()
      if (this.#inFlight === 0) {
        this.#pool.idle()
        this.#drained?.()
      }
    }
  }

  /**
   * A free instance of exactly this deployment: same version, module and code
   * hash. A call naming a version with other code never lands on (or leaves
   * behind) an instance another caller of that version would reach.
   */
  #idleInstance(params: InvokeParams, memoryMb: number): FunctionInstance | undefined {
    return this.#instances
      .get(params.version)
      ?.find(
        (i) =>
          !i.busy &&
          !i.disposed &&
          i.memoryMb === memoryMb &&
          i.deployment.codeHash === params.codeHash &&
          i.deployment.module === params.module,
      )
  }

  async #specialize(params: InvokeParams, code: string, memoryMb: number): Promise<FunctionInstance> {
    this.#makeRoom()
    // Counted from here: the isolate is made asynchronously, and cold starts
    // racing it must see the slot taken.
    this.#specializing++
    try {
      // The pool holds isolates at the host's default heap limit; another size is made on the spot.
      const generic =
        memoryMb === this.#options.memoryLimitMb
          ? (await this.#pool.take()).generic
          : await GenericIsolate.create(memoryMb)
      const extension = params.runtime === 'ts' ? 'ts' : 'js'
      const deployment = {
        module: params.module,
        version: params.version,
        code,
        codeHash: params.codeHash,
        filename: `${params.module}.${extension}`,
      }
      const instance: FunctionInstance = new FunctionInstance(
        generic,
        deployment,
        (level, line) => {
          const call = this.#current.get(instance)
          this.#options.onLog({
            timeMs: Date.now(),
            level,
            line,
            module: deployment.module,
            version: deployment.version,
            functionName: call?.functionName ?? '',
            callId: call?.callId ?? '',
          })
        },
        this.#options.loadTimeoutMs,
      )
      const list = this.#instances.get(params.version) ?? []
      list.push(instance)
      this.#instances.set(params.version, list)
      return instance
    } finally {
      this.#specializing--
    }
  }

  /** Keeps the instance count under its cap by disposing the least recently used idle one. */
  #makeRoom(): void {
    const all = [...this.#instances.values()].flat()
    if (all.length + this.#specializing < this.#options.maxInstances) return
    // By call order, not clock time: calls within one millisecond still order.
    const order = (i: FunctionInstance): number => this.#lastUse.get(i) ?? 0
    const idle = all.filter((i) => !i.busy).sort((a, b) => order(a) - order(b))[0]
    if (!idle) {
      throw new OsirisError(
        'RESOURCE_EXHAUSTED',
        `host is at its limit of ${this.#options.maxInstances} instances, all busy`,
      )
    }
    idle.dispose()
    this.#remove(idle)
  }

  #remove(instance: FunctionInstance): void {
    const version = instance.deployment.version
    const list = this.#instances.get(version)?.filter((i) => i !== instance) ?? []
    if (list.length > 0) this.#instances.set(version, list)
    else this.#instances.delete(version)
  }

  evict(module: string, beforeVersion: number): void {
    for (const list of this.#instances.values()) {
      for (const instance of list) {
        const { deployment } = instance
        if (deployment.module !== module || (beforeVersion !== 0 && deployment.version >= beforeVersion)) continue
        // A busy instance finishes its call on the old version, then goes.
        if (instance.busy) instance.retired = true
        else {
          instance.dispose()
          this.#remove(instance)
        }
      }
    }
    this.#options.onChange()
  }

  /** Disposes instances idle past the TTL; the warm pool keeps its target. */
  #sweepIdle(): void {
    const cutoff = Date.now() - this.#idleTtlMs
    let swept = false
    for (const list of this.#instances.values()) {
      for (const instance of list) {
        if (instance.busy || instance.lastUsedMs > cutoff) continue
        instance.dispose()
        this.#remove(instance)
        swept = true
      }
    }
    if (swept) this.#options.onChange()
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

  status(): ExecutorStatus {
    const instances = [...this.#instances].map(([version, list]) => ({
      module: list[0]?.deployment.module ?? '',
      version,
      busy: list.filter((i) => i.busy).length,
      idle: list.filter((i) => !i.busy).length,
    }))
    return { poolReady: this.#pool.size, poolTarget: this.#pool.target, inFlight: this.#inFlight, instances }
  }

  async close(graceMs: number): Promise<void> {
    if (this.#closed) return
    this.#closed = true
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
    const pool = this.#pool.close()
    for (const list of this.#instances.values()) for (const instance of list) instance.dispose()
    this.#instances.clear()
    await pool
  }
}
