// `osiris runtime build NAME` and `osiris runtime ls`: the container runtimes'
// images, built offline from Debian packages and imported into the engine.
import { buildRuntimeImage, DockerClient, RUNTIMES, runtimeSpec } from '@osiris/container-fallback'
import { parse, UsageError } from './args.ts'

const say = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

export const RUNTIME_USAGE = `Usage: osiris runtime build NAME [options]
       osiris runtime ls [--docker-socket PATH]

build  makes the runtime's image from Debian packages with mmdebstrap (needs
       root or user namespaces, and a Debian mirror; no image registry) and
       imports it into the container engine. Runtimes: ${RUNTIMES.map((r) => r.name).join(', ')}.
ls     lists the container runtimes, their images, and whether each is present.

Options:
  --image REPO:TAG     image to build (default: the runtime's, e.g. ${RUNTIMES[0]?.image})
  --suite NAME         Debian suite (default bookworm)
  --mirror URL         Debian mirror (default: this machine's apt sources)
  --force              rebuild even when the image is present
  --docker-socket PATH engine socket (default $DOCKER_HOST unix://..., else /var/run/docker.sock)`

const MIB = 1024 * 1024

async function build(docker: DockerClient, name: string, values: Record<string, string | boolean | undefined>) {
  const spec = runtimeSpec(name)
  if (!spec) throw new UsageError(`unknown runtime "${name}"; known: ${RUNTIMES.map((r) => r.name).join(', ')}`)
  const image = typeof values.image === 'string' ? values.image : spec.image
  await docker.ping()
  if (!values.force && (await docker.hasImage(image))) {
    say(`${image} is already present (--force rebuilds it)`)
    return
  }
  say(`building ${image} for runtime ${spec.name} from Debian packages: ${spec.packages.join(' ')}`)
  const started = Date.now()
  let lastPercent = -1
  await buildRuntimeImage(docker, spec, {
    image,
    ...(typeof values.suite === 'string' ? { suite: values.suite } : {}),
    ...(typeof values.mirror === 'string' ? { mirror: values.mirror } : {}),
    onProgress: (p) => {
      if (p.stage === 'rootfs') say(`  rootfs: ${p.line}`)
      else if (p.stage === 'import') {
        const percent = Math.floor((100 * p.sentBytes) / Math.max(1, p.totalBytes))
        if (percent >= lastPercent + 10 || p.sentBytes === p.totalBytes) {
          lastPercent = percent
          say(`  import: ${(p.sentBytes / MIB).toFixed(0)} / ${(p.totalBytes / MIB).toFixed(0)} MiB (${percent}%)`)
        }
      } else
        say(`built ${p.image} (${(p.bytes / MIB).toFixed(0)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    },
  })
}

export async function runtime(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      image: { type: 'string' },
      suite: { type: 'string' },
      mirror: { type: 'string' },
      force: { type: 'boolean' },
      'docker-socket': { type: 'string' },
    },
    RUNTIME_USAGE,
  )
  if (values.help) return say(RUNTIME_USAGE)
  const [action, name, ...rest] = positionals
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}\n\n${RUNTIME_USAGE}`)
  const docker = new DockerClient(values['docker-socket'])
  try {
    if (action === 'build') {
      if (!name) throw new UsageError(`runtime build needs a runtime name\n\n${RUNTIME_USAGE}`)
      await build(docker, name, values)
    } else if (action === 'ls') {
      await docker.ping()
      for (const spec of RUNTIMES) {
        const present = await docker.hasImage(spec.image)
        say(`${spec.name}\t${spec.extension}\t${spec.image}\t${present ? 'present' : 'missing'}`)
      }
    } else {
      throw new UsageError(`runtime needs an action: build or ls\n\n${RUNTIME_USAGE}`)
    }
  } finally {
    await docker.close()
  }
}
