// What the engine says happened to this executor's containers, from its event
// stream: which were killed by the kernel's OOM killer and how each one died.
// Containers are auto-removed when they exit (so a host that dies leaves
// nothing behind), which means asking afterwards is too late: the executor
// listens before it starts any.
// The engine can lose an "oom" event: dockerd handles the exit first, removes
// the auto-removed container, then drops the late "oom" for a container it no
// longer knows ("could not find container" in its log). So a SIGKILL (exit
// 137) that nobody asked the engine for (no "kill" event: not a kill, stop or
// forced remove) is taken for the kernel's OOM killer too.
import type { Ending } from './container.ts'
import type { DockerClient, EngineEvent } from './docker-client.ts'

/** Exit code of a process ended by SIGKILL. */
const SIGKILL_EXIT = 137
/** How long to wait for the engine's "die" after the shim's socket closed. */
const DIE_WAIT_MS = 10_000
/** Deaths remembered for a later ending() call; the oldest are forgotten first. */
const REMEMBERED = 1000
/** Backoff between attempts to reopen a stream the engine ended, ms. */
const RELISTEN_MIN_MS = 250
const RELISTEN_MAX_MS = 5000

export class EngineEvents {
  readonly #oom = new Set<string>()
  /** Containers the engine was asked to signal (kill, stop, forced remove). */
  readonly #killed = new Set<string>()
  readonly #died = new Map<string, number | undefined>()
  readonly #waiters = new Map<string, Set<() => void>>()
  readonly #stop = new AbortController()
  /** The latest event's time, s: a reopened stream replays from there, so a gap loses nothing. */
  #lastSeenS: number | undefined
  #relisten: NodeJS.Timeout | undefined

  /**
   * Starts listening for the containers labelled `label`; resolves once the
   * engine streams. When the engine ends the stream (it restarted), it is
   * reopened with backoff, replaying from the last event seen.
   */
  async listen(docker: DockerClient, label: string): Promise<void> {
    const since = this.#lastSeenS
    await docker.events(
      { type: ['container'], event: ['oom', 'kill', 'die'], label: [label] },
      (event) => this.#on(event),
      this.#stop.signal,
      { ...(since === undefined ? {} : { since }), onEnd: () => this.#reopen(docker, label, RELISTEN_MIN_MS) },
    )
    this.#lastSeenS ??= Math.floor(Date.now() / 1000)
  }

  #reopen(docker: DockerClient, label: string, backoffMs: number): void {
    if (this.#stop.signal.aborted) return
    this.#relisten = setTimeout(() => {
      this.listen(docker, label).catch(() => this.#reopen(docker, label, Math.min(backoffMs * 2, RELISTEN_MAX_MS)))
    }, backoffMs)
    this.#relisten.unref()
  }

  #on(event: EngineEvent): void {
    if (event.timeNano) this.#lastSeenS = Math.floor(event.timeNano / 1e9)
    const id = event.Actor?.ID ?? event.id
    if (!id) return
    if (event.Action === 'oom') this.#oom.add(id)
    if (event.Action === 'kill') this.#killed.add(id)
    if (event.Action === 'die') {
      const code = Number(event.Actor?.Attributes?.exitCode)
      this.#died.set(id, Number.isInteger(code) ? code : undefined)
      if (this.#died.size > REMEMBERED) {
        const oldest = this.#died.keys().next().value
        if (oldest !== undefined) this.#forget(oldest)
      }
      for (const wake of this.#waiters.get(id) ?? []) wake()
      this.#waiters.delete(id)
    }
  }

  /** How container `id` ended, once the engine has said it died (or after `waitMs`, at most DIE_WAIT_MS). */
  async ending(id: string, waitMs = DIE_WAIT_MS): Promise<Ending> {
    if (!this.#died.has(id)) {
      await new Promise<void>((resolve) => {
        const waiters = this.#waiters.get(id) ?? new Set()
        const done = (): void => {
          clearTimeout(timer)
          waiters.delete(done)
          if (waiters.size === 0 && this.#waiters.get(id) === waiters) this.#waiters.delete(id)
          resolve()
        }
        const timer = setTimeout(done, Math.min(waitMs, DIE_WAIT_MS))
        waiters.add(done)
        this.#waiters.set(id, waiters)
      })
    }
    const exitCode = this.#died.get(id)
    const oomKilled = this.#oom.has(id) || (exitCode === SIGKILL_EXIT && !this.#killed.has(id))
    this.#forget(id)
    return { oomKilled, exitCode }
  }

  #forget(id: string): void {
    this.#oom.delete(id)
    this.#killed.delete(id)
    this.#died.delete(id)
  }

  close(): void {
    this.#stop.abort()
    clearTimeout(this.#relisten)
  }
}
