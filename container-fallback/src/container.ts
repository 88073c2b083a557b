// One runtime container: created with every limit, its shim connected over a
// socket in its own directory, generic until it loads one function version's
// code, and removed (SIGKILL + delete) when it breaks a limit, idles out, or
// the executor closes. Labels let a later executor find and remove leftovers.
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { OsirisError } from '@osiris/proto'
import { type DockerClient, EngineError } from './docker-client.ts'
import type { EngineEvents } from './engine-events.ts'
import type { ContainerLimits } from './options.ts'
import type { RuntimeSpec } from './runtimes.ts'
import { ChannelClosed, type ShimAnswer, ShimChannel } from './shim-channel.ts'

export const LABEL_MANAGED = 'dev.osiris.managed'
export const LABEL_OWNER_PID = 'dev.osiris.owner-pid'
export const LABEL_EXECUTOR = 'dev.osiris.executor'
export const LABEL_RUNTIME = 'dev.osiris.runtime'

const SHIM_DIR = '/osiris/shim'
const RUN_DIR = '/run/osiris'

/** A request's wall-clock limit fired; the container has been killed. */
/** The caller went away; the container has been killed (and is gone once `remove()` settles). */
export class CallCancelled extends Error {
  override get name(): string {
    return 'CallCancelled'
  }
}

export class DeadlineHit extends Error {
  override get name(): string {
    return 'DeadlineHit'
  }
}

export type ContainerState = 'generic' | 'specialized' | 'gone'

export interface Deployment {
  module: string
  version: number
  codeHash: string
}

export interface ContainerSetup {
  docker: DockerClient
  events: EngineEvents
  runtime: RuntimeSpec
  image: string
  limits: Readonly<ContainerLimits>
  user: string
  runDir: string
  executorId: string
  startTimeoutMs: number
}

/** Why a container ended, read from the engine after its shim went away. */
export interface Ending {
  oomKilled: boolean
  exitCode: number | undefined
}

export function containerSpec(setup: ContainerSetup, dir: string, token: string): object {
  const { runtime, limits } = setup
  const shimPath = `${SHIM_DIR}/${basename(runtime.shim)}`
  return {
    Image: setup.image,
    Cmd: runtime.command.map((part) => part.replace('{shim}', shimPath)),
    User: setup.user,
    WorkingDir: '/tmp',
    Env: [
      `OSIRIS_SOCKET=${RUN_DIR}/host.sock`,
      `OSIRIS_SHIM_TOKEN=${token}`,
      'HOME=/tmp',
      'PYTHONDONTWRITEBYTECODE=1',
      'LANG=C.UTF-8',
    ],
    Labels: {
      [LABEL_MANAGED]: 'true',
      [LABEL_OWNER_PID]: String(process.pid),
      [LABEL_EXECUTOR]: setup.executorId,
      [LABEL_RUNTIME]: runtime.name,
    },
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      Memory: limits.memoryMb * 1024 * 1024,
      MemorySwap: limits.memoryMb * 1024 * 1024,
      CpuShares: limits.cpuShares,
      NanoCpus: limits.cpuMillis * 1_000_000,
      PidsLimit: limits.pids,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      // A container whose shim exits (its host died: the socket closed) goes away by itself.
      AutoRemove: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,${runtime.execTmp ? 'exec' : 'noexec'},size=${limits.tmpMb}m` },
      // Mounts, not Binds: a missing source is an error, never an empty directory made on the spot.
      Mounts: [
        { Type: 'bind', Source: dir, Target: RUN_DIR, ReadOnly: true },
        { Type: 'bind', Source: runtime.shim, Target: shimPath, ReadOnly: true },
      ],
      LogConfig: { Type: 'none', Config: {} },
    },
  }
}

export class RuntimeContainer {
  readonly id: string
  readonly name: string
  readonly runtime: string
  readonly memoryMb: number
  readonly #docker: DockerClient
  readonly #events: EngineEvents
  readonly #dir: string
  readonly #channel: ShimChannel
  state: ContainerState = 'generic'
  deployment: Deployment | undefined
  busy = false
  /** Dropped by a redeploy while busy: removed once its call ends. */
  retired = false
  lastUsedMs = Date.now()
  #removing: Promise<void> | undefined
  /** Called once when the shim's connection ends (the container died, or was removed). */
  onGone: () => void = () => {}

  private constructor(id: string, name: string, setup: ContainerSetup, dir: string, channel: ShimChannel) {
    this.id = id
    this.name = name
    this.runtime = setup.runtime.name
    this.memoryMb = setup.limits.memoryMb
    this.#docker = setup.docker
    this.#events = setup.events
    this.#dir = dir
    this.#channel = channel
    channel.onClose = () => {
      if (this.state !== 'gone') this.state = 'gone'
      this.onGone()
    }
  }

  /** Creates and starts a container and waits for its shim's hello. */
  static async start(setup: ContainerSetup): Promise<RuntimeContainer> {
    const name = `osiris-${setup.runtime.name}-${randomUUID().slice(0, 12)}`
    // Under a directory per owner process, so a later executor can tell a dead process's directories at a glance.
    const dir = join(setup.runDir, String(process.pid), name)
    await mkdir(dir, { recursive: true, mode: 0o711 })
    let channel: ShimChannel | undefined
    let id: string | undefined
    try {
      channel = await ShimChannel.listen(dir)
      const token = randomBytes(24).toString('hex')
      id = await setup.docker.createContainer(name, containerSpec(setup, dir, token))
      const container = new RuntimeContainer(id, name, setup, dir, channel)
      const hello = channel.hello(AbortSignal.timeout(setup.startTimeoutMs))
      await setup.docker.startContainer(id)
      const said = await hello.catch((error: unknown) => {
        const why = error instanceof ChannelClosed ? 'its shim exited' : (error as Error).message
        throw new OsirisError('UNAVAILABLE', `${setup.runtime.name} container ${name} did not start: ${why}`)
      })
      // Whoever connected first must be this container's shim, not another local process.
      if (said.token !== token) {
        throw new OsirisError('INTERNAL', `${name}: the process on its socket did not present the container's token`)
      }
      return container
    } catch (caught) {
      let error = caught
      channel?.close()
      if (error instanceof EngineError && error.status === 404) {
        error = new OsirisError(
          'UNAVAILABLE',
          `image ${setup.image} of runtime ${setup.runtime.name} is not on this engine; build it with "osiris runtime build ${setup.runtime.name}"`,
        )
      }
      if (id) await setup.docker.removeContainer(id).catch(() => {})
      await rm(dir, { recursive: true, force: true })
      throw error
    }
  }

  /** One request to the shim; rejects ChannelClosed when the container dies first. */
  request(message: object, onLog?: (entry: unknown) => void): Promise<ShimAnswer> {
    if (this.state === 'gone') return Promise.reject(new ChannelClosed(`container ${this.name} is gone`))
    return this.#channel.request(message, onLog)
  }

  /**
   * One request under a wall-clock limit: when it fires the container is
   * killed and the request rejects with DeadlineHit. `onLog` as for request().
   * When `signal` aborts the container is killed and the request rejects with
   * CallCancelled once it is gone (its process has really stopped).
   */
  requestWithin(
    ms: number,
    message: object,
    onLog?: (entry: unknown) => void,
    signal?: AbortSignal,
  ): Promise<ShimAnswer> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer)
        this.remove().then(() => reject(new CallCancelled('the caller cancelled the call; its container was killed')))
      }
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort)
          reject(new DeadlineHit(`no answer within ${ms} ms`))
          void this.remove()
        },
        Math.max(0, ms),
      )
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      this.request(message, onLog).then(
        (answer) => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          resolve(answer)
        },
        (error: unknown) => {
          if (signal?.aborted) return
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      )
    })
  }

  /** What the engine says about how this container ended (its event stream), waiting at most `waitMs` for it. */
  ending(waitMs?: number): Promise<Ending> {
    return this.#events.ending(this.id, waitMs)
  }

  /** Kills and deletes the container and its socket directory. Idempotent. */
  remove(): Promise<void> {
    this.state = 'gone'
    this.#removing ??= (async () => {
      this.#channel.close()
      await this.#docker.removeContainer(this.id).catch(() => {})
      await rm(this.#dir, { recursive: true, force: true })
    })()
    return this.#removing
  }
}
