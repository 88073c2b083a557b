// Containers (and their socket directories) left by an executor whose process
// died without closing: every container Osiris starts is labelled with its
// owner's pid, and one whose owner is no longer running is removed.
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { LABEL_MANAGED, LABEL_OWNER_PID } from './container.ts'
import type { DockerClient } from './docker-client.ts'

/** A directory this young may belong to a container another process is creating right now. */
const DIR_GRACE_MS = 60_000

export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes managed containers whose owner process is gone, and socket directories no container uses. */
export async function removeLeftovers(docker: DockerClient, runDir: string): Promise<number> {
  const managed = await docker.listContainers([`${LABEL_MANAGED}=true`])
  const stale = managed.filter((c) => !processAlive(Number(c.Labels[LABEL_OWNER_PID])))
  await Promise.all(stale.map((c) => docker.removeContainer(c.Id)))
  const live = new Set(
    managed.filter((c) => !stale.includes(c)).flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))),
  )
  const entries = await readdir(runDir).catch(() => [] as string[])
  const now = Date.now()
  for (const entry of entries) {
    if (live.has(entry) || !entry.startsWith('osiris-')) continue
    const dir = join(runDir, entry)
    const info = await stat(dir).catch(() => undefined)
    if (info && now - info.mtimeMs > DIR_GRACE_MS) await rm(dir, { recursive: true, force: true })
  }
  return stale.length
}
