// Containers (and their socket directories) left by an executor whose process
// died without closing: every container Osiris starts is labelled with its
// owner's pid and its directory sits under that pid, and what belongs to a
// process no longer running is removed.
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { LABEL_MANAGED, LABEL_OWNER_PID } from './container.ts'
import type { DockerClient } from './docker-client.ts'

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

/**
 * Removes managed containers whose owner process is gone, and the socket
 * directories (one per owner pid) of processes that are gone.
 */
export async function removeLeftovers(docker: DockerClient, runDir: string): Promise<number> {
  const managed = await docker.listContainers([`${LABEL_MANAGED}=true`])
  const stale = managed.filter((c) => !processAlive(Number(c.Labels[LABEL_OWNER_PID])))
  await Promise.all(stale.map((c) => docker.removeContainer(c.Id)))
  const entries = await readdir(runDir).catch(() => [] as string[])
  for (const entry of entries) {
    if (/^\d+$/.test(entry) && !processAlive(Number(entry))) {
      await rm(join(runDir, entry), { recursive: true, force: true })
    }
  }
  return stale.length
}
