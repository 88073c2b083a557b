// The real container engine for tests: fails fast with what to do when no
// engine answers, builds the python runtime image once (kept across runs, the
// one thing these tests mean to leave behind), and checks that nothing else
// is left: no container carrying a given label once the test is done.
import { open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildRuntimeImage, DockerClient, runtimeSpec } from '@osiris/container-fallback'
import { processAlive } from '../../src/leftovers.ts'

export const PYTHON_IMAGE = runtimeSpec('python')?.image ?? ''
const LOCK = join(tmpdir(), 'osiris-test-image-build.lock')

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A client for the engine; the test fails with instructions when none answers. */
export async function engine(t: Teardown): Promise<DockerClient> {
  const docker = new DockerClient()
  t.teardown(() => docker.close())
  try {
    await docker.ping()
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nThese tests need a Docker engine: apt-get install -y docker.io && dockerd --bridge=none --iptables=false & (.ci/run does this)`,
    )
  }
  return docker
}

/** Polls `check` until it holds, or throws after `timeoutMs` naming `what`. */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`${what} did not hold within ${timeoutMs} ms`)
}

/**
 * The python image, built now when missing. Test files run in parallel, so
 * the build is behind an exclusive lock file; whoever waits re-checks after.
 */
export async function pythonImage(docker: DockerClient): Promise<string> {
  if (await docker.hasImage(PYTHON_IMAGE)) return PYTHON_IMAGE
  let lock: Awaited<ReturnType<typeof open>> | undefined
  await eventually(
    async () => {
      lock = await open(LOCK, 'wx').catch(() => undefined)
      if (lock) await lock.writeFile(String(process.pid))
      else {
        const owner = await readFile(LOCK, 'utf8').catch(() => '')
        // A build that died holding the lock: take it over (an empty file is one being taken right now).
        if (owner !== '' && !processAlive(Number(owner))) await rm(LOCK, { force: true })
      }
      return lock !== undefined || (await docker.hasImage(PYTHON_IMAGE))
    },
    `the lock ${LOCK} for building ${PYTHON_IMAGE}`,
    600_000,
  )
  if (!lock) return PYTHON_IMAGE
  try {
    if (!(await docker.hasImage(PYTHON_IMAGE))) {
      const spec = runtimeSpec('python')
      if (!spec) throw new Error('no python runtime')
      await buildRuntimeImage(docker, spec)
    }
  } finally {
    await lock.close()
    await rm(LOCK, { force: true })
  }
  return PYTHON_IMAGE
}

/** Containers carrying `label` (`key=value`), running or not. */
export async function containersLabelled(docker: DockerClient, label: string): Promise<string[]> {
  return (await docker.listContainers([label])).map((c) => c.Names[0] ?? c.Id)
}
