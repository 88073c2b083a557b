// What the engine says happened to this executor's containers, from its event
// stream: which were killed by the kernel's OOM killer and how each one died.
// Containers are auto-removed when they exit (so a host that dies leaves
// nothing behind), which means asking afterwards is too late: the executor
// listens before it starts any.
import type { Ending } from './container.ts'
import type { DockerClient, EngineEvent } from './docker-client.ts'

/** How long to wait for the engine's "die" after the shim's socket closed. */
const DIE_WAIT_MS = 10_000
/** Deaths remembered for a later ending() call; the oldest are forgotten first. */
const REMEMBERED = 1000

export class EngineEvents {
  readonly #oom = new Set<string>()
  readonly #died = new Map<string, number | undefined>()
  readonly #waiters = new Map<string, Set<() => void>>()
  readonly #stop = new AbortController()

  /** Starts listening for the containers labelled `label`; resolves once the engine streams. */
  async listen(docker: DockerClient, label: string): Promise<void> {
    await docker.events(
      { type: ['container'], event: ['oom', 'die'], label: [label] },
      (event) => this.#on(event),
      this.#stop.signal,
    )
  }

  #on(event: EngineEvent): void {
    const id = event.Actor?.ID ?? event.id
    if (!id) return
    if (event.Action === 'oom') this.#oom.add(id)
    if (event.Action === 'die') {
      const code = Number(event.Actor?.Attributes?.exitCode)
      this.#died.set(id, Number.isInteger(code) ? code : undefined)
      if (this.#died.size > REMEMBERED) {
        const oldest = this.#died.keys().next().value
        if (oldest !== undefined) this.forget(oldest)
      }
      for (const wake of this.#waiters.get(id) ?? []) wake()
      this.#waiters.delete(id)
    }
  }

  /** How container `id` ended, once the engine has said it died (or after a short wait). */
  async ending(id: string): Promise<Ending> {
    if (!this.#died.has(id)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, DIE_WAIT_MS)
        const waiters = this.#waiters.get(id) ?? new Set()
        function done(): void {
          clearTimeout(timer)
          waiters.delete(done)
          resolve()
        }
        waiters.add(done)
        this.#waiters.set(id, waiters)
      })
    }
    const ending = { oomKilled: this.#oom.has(id), exitCode: this.#died.get(id) }
    this.forget(id)
    return ending
  }

  /** Drops what is known about a removed container. */
  forget(id: string): void {
    this.#oom.delete(id)
    this.#died.delete(id)
  }

  close(): void {
    this.#stop.abort()
  }
}
