// Builds a runtime's image offline: mmdebstrap makes a minimal Debian root
// filesystem from the runtime's packages (a Debian mirror is all it needs, no
// image registry), and the engine imports the tarball as an image
// (POST /images/create?fromSrc=-). Shims are not baked in: containers mount
// them, so a shim change needs no rebuild.
import { spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { OsirisError } from '@osiris/proto'
import type { DockerClient } from './docker-client.ts'
import type { RuntimeSpec } from './runtimes.ts'

export type BuildProgress =
  | { stage: 'rootfs'; line: string }
  | { stage: 'import'; sentBytes: number; totalBytes: number }
  | { stage: 'done'; image: string; bytes: number }

export interface BuildOptions {
  /** `repo:tag` to build; default the runtime's image. */
  image?: string
  /** Debian suite. Default bookworm. */
  suite?: string
  /** Debian mirror; default mmdebstrap's (the machine's apt sources). */
  mirror?: string
  onProgress?: (progress: BuildProgress) => void
}

/** `repo:tag` → its two parts (a registry port's colon is not a tag). */
export function splitImage(image: string): { repo: string; tag: string } {
  const colon = image.lastIndexOf(':')
  if (colon > image.lastIndexOf('/')) return { repo: image.slice(0, colon), tag: image.slice(colon + 1) }
  return { repo: image, tag: 'latest' }
}

function mmdebstrap(args: string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mmdebstrap', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', onLine)
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new OsirisError('UNAVAILABLE', 'mmdebstrap is not installed (apt-get install -y mmdebstrap)')
          : error,
      )
    })
    child.on('close', (code, signal) => {
      if (code === 0) resolve()
      else reject(new OsirisError('INTERNAL', `mmdebstrap failed (${signal ?? `exit code ${code}`})`))
    })
  })
}

export async function buildRuntimeImage(
  docker: DockerClient,
  spec: RuntimeSpec,
  options: BuildOptions = {},
): Promise<string> {
  const image = options.image ?? spec.image
  const progress = options.onProgress ?? (() => {})
  const { repo, tag } = splitImage(image)
  const work = await mkdtemp(join(tmpdir(), `osiris-build-${spec.name}-`))
  try {
    const tarball = join(work, 'rootfs.tar')
    const args = [
      '--variant=essential',
      `--include=${spec.packages.join(',')}`,
      // Documentation and translations are dead weight in a function container.
      '--dpkgopt=path-exclude=/usr/share/doc/*',
      '--dpkgopt=path-exclude=/usr/share/man/*',
      '--dpkgopt=path-exclude=/usr/share/locale/*',
      options.suite ?? 'bookworm',
      tarball,
      ...(options.mirror ? [options.mirror] : []),
    ]
    await mmdebstrap(args, (line) => progress({ stage: 'rootfs', line }))
    const totalBytes = (await stat(tarball)).size
    await docker.importImage(
      createReadStream(tarball, { highWaterMark: 1024 * 1024 }),
      repo,
      tag,
      ['USER 65534:65534', 'WORKDIR /tmp', 'ENV LANG=C.UTF-8'],
      (sentBytes) => progress({ stage: 'import', sentBytes, totalBytes }),
    )
    progress({ stage: 'done', image, bytes: totalBytes })
    return image
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
