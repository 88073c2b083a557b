// Runtimes are data: the image a runtime's containers run, the shim that
// loads a function module and serves calls (container-fallback/README.md),
// the file extension deploy maps to it, how its parameters are read, and the
// Debian packages `osiris runtime build` puts in its image. Adding a language
// is one more entry here plus its shim.
import { fileURLToPath } from 'node:url'

export interface RuntimeSpec {
  /** The runtime name deploy and the registry use. */
  readonly name: string
  /** Source file extension the CLI maps to this runtime. */
  readonly extension: string
  /** Default image; `ContainerExecutorOptions.images` overrides it per runtime. */
  readonly image: string
  /** The shim on this machine; mounted read-only at `/osiris/shim/<file name>`. */
  readonly shim: string
  /** The container's command; `{shim}` is the shim's path inside the container. */
  readonly command: readonly string[]
  /** How parameter names are read at deploy (for docs and `osiris runtime ls`). */
  readonly params: string
  /** Whether programs may be run from /tmp (the exec runtime writes its module there). */
  readonly execTmp: boolean
  /** Debian packages of the image `osiris runtime build` makes (bookworm, essential variant). */
  readonly packages: readonly string[]
}

const shim = (path: string): string => fileURLToPath(new URL(`./shims/${path}`, import.meta.url))

export const RUNTIMES: readonly RuntimeSpec[] = Object.freeze([
  {
    name: 'python',
    extension: '.py',
    image: 'osiris-runtime/python:bookworm',
    shim: shim('python/osiris_shim.py'),
    command: ['python3', '-I', '-u', '{shim}'],
    params: "public top-level def / async def, parsed with Python's ast (defaults optional, *args rest)",
    execTmp: false,
    packages: ['python3-minimal', 'libpython3-stdlib'],
  },
  {
    // Any executable: JSON args array on stdin, JSON result on stdout. The
    // shim (Python, so it shares the python image) runs it once per call.
    name: 'exec',
    extension: '.run',
    image: 'osiris-runtime/python:bookworm',
    shim: shim('exec/osiris_exec_shim.py'),
    command: ['python3', '-I', '-u', '{shim}'],
    params: 'one function named after the module; parameters from a "# osiris: params a b" line, else any',
    execTmp: true,
    packages: ['python3-minimal', 'libpython3-stdlib'],
  },
])

export function runtimeSpec(name: string): RuntimeSpec | undefined {
  return RUNTIMES.find((r) => r.name === name)
}
