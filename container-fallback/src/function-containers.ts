// Containers specialized for a function version, by version: which one is
// free, which to drop on a redeploy or after the idle TTL, which to give up
// when the host is full, and what the controller is told about them.
import type { InstanceStatus } from '@osiris/proto'
import type { RuntimeContainer } from './container.ts'

export class FunctionContainers {
  readonly #byVersion = new Map<number, RuntimeContainer[]>()
  readonly #onLeave: () => void

  /** `onLeave` runs after a container has left (status changed; the pools may refill). */
  constructor(onLeave: () => void) {
    this.#onLeave = onLeave
  }

  get count(): number {
    let n = 0
    for (const list of this.#byVersion.values()) n += list.length
    return n
  }

  all(): RuntimeContainer[] {
    return [...this.#byVersion.values()].flat()
  }

  /**
   * A warm, free container of exactly this deployment (version, module and
   * code hash) with `memoryMb`, if one is here: a call naming a version with
   * other code never reaches another caller's container.
   */
  idle(
    deployment: { version: number; module: string; codeHash: string },
    memoryMb: number,
  ): RuntimeContainer | undefined {
    const { version, module, codeHash } = deployment
    return this.#byVersion
      .get(version)
      ?.find(
        (c) =>
          !c.busy &&
          c.state === 'specialized' &&
          c.memoryMb === memoryMb &&
          c.deployment?.codeHash === codeHash &&
          c.deployment.module === module,
      )
  }

  ids(version: number): string[] {
    return (this.#byVersion.get(version) ?? []).map((c) => c.id)
  }

  add(container: RuntimeContainer): void {
    const version = container.deployment?.version ?? 0
    const list = this.#byVersion.get(version) ?? []
    list.push(container)
    this.#byVersion.set(version, list)
    // A container that dies while idle (killed from outside) leaves at once;
    // a busy one leaves when its call ends.
    container.onGone = () => {
      if (!container.busy) this.drop(container)
    }
  }

  /** Removes the container from the engine and from here. */
  drop(container: RuntimeContainer): void {
    void container.remove()
    const version = container.deployment?.version ?? 0
    const list = this.#byVersion.get(version)
    if (!list?.includes(container)) return
    const left = list.filter((c) => c !== container)
    if (left.length > 0) this.#byVersion.set(version, left)
    else this.#byVersion.delete(version)
    this.#onLeave()
  }

  /** A call ended on `container`: it stays warm unless it was retired or died. */
  release(container: RuntimeContainer): void {
    container.busy = false
    container.lastUsedMs = Date.now()
    if (container.retired || container.state === 'gone') this.drop(container)
  }

  /** The least recently used free container, to give up for a new one. */
  leastRecentlyUsed(): RuntimeContainer | undefined {
    return this.all()
      .filter((c) => !c.busy)
      .sort((a, b) => a.lastUsedMs - b.lastUsedMs)[0]
  }

  /** Drops containers of `module` below `beforeVersion` (all when 0); busy ones after their call. */
  evict(module: string, beforeVersion: number): void {
    for (const container of this.all()) {
      const d = container.deployment
      if (!d || d.module !== module || (beforeVersion !== 0 && d.version >= beforeVersion)) continue
      if (container.busy) container.retired = true
      else this.drop(container)
    }
  }

  /** Drops free containers last used at or before `cutoffMs`. */
  sweep(cutoffMs: number): void {
    for (const container of this.all()) if (!container.busy && container.lastUsedMs <= cutoffMs) this.drop(container)
  }

  status(): InstanceStatus[] {
    return [...this.#byVersion].map(([version, list]) => ({
      module: list[0]?.deployment?.module ?? '',
      version,
      busy: list.filter((c) => c.busy).length,
      idle: list.filter((c) => !c.busy).length,
    }))
  }

  async removeAll(): Promise<void> {
    const all = this.all()
    this.#byVersion.clear()
    await Promise.all(all.map((c) => c.remove()))
  }
}
