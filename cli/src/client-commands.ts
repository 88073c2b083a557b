// The client verbs: deploy, call, ls, rm, hosts. Each talks to the controller
// as connection.ts says: --addr/--ca, else $OSIRIS_ADDR/$OSIRIS_CA.
import { readFile } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import type { FunctionInfo, Parameter } from '@osiris/sdk'
import { given, parse, positiveInt, UsageError } from './args.ts'
import { CONNECT_FLAGS, CONNECT_HELP, withClient } from './connection.ts'

export const DEPLOY_USAGE = `Usage: osiris deploy FILE [options]

Deploys a module: every function it exports (or, with no exports, every
top-level function declaration) is registered under its own name.

Options:
  --name NAME        module name (default: the file name without extension)
  --timeout T        wall-clock limit of each call, e.g. 2s or 500ms (default 30s)
  --cpu T            CPU time of each call (default 10s)
  --memory MB        heap limit of the function's isolate (default 128)
  --allow-host HOST  a host fetch may reach besides public addresses (repeatable)
  --runtime RT       js or ts (default: from the extension)
${CONNECT_HELP}`

export const CALL_USAGE = `Usage: osiris call NAME [ARG...] [options]

Calls a function and prints its result as JSON. Each ARG is parsed as JSON,
and taken as a plain string when it is not JSON: \`osiris call greet ada\`.

Options:
  --timeout MS       give up after this many milliseconds
${CONNECT_HELP}`

export const LS_USAGE = `Usage: osiris ls [options]

Lists deployed functions: name, runtime, version, parameters, deployed at.

Options:
${CONNECT_HELP}`

export const HOSTS_USAGE = `Usage: osiris hosts [options]

Lists the hosts the controller knows: id, state (ready / draining), address,
runtimes, warm pool, function instances (busy / all), calls in flight,
capacity, memory, pid.

Options:
${CONNECT_HELP}`

export const RM_USAGE = `Usage: osiris rm NAME [options]

Removes a function; calls to it then fail with NOT_FOUND.

Options:
${CONNECT_HELP}`

const say = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

export function signature(name: string, params: readonly Parameter[]): string {
  const list = params.map((p) => (p.rest ? `...${p.name}` : p.optional ? `${p.name}?` : p.name))
  return `${name}(${list.join(', ')})`
}

const RUNTIMES: Record<string, string> = { '.ts': 'ts', '.mts': 'ts', '.js': 'js', '.mjs': 'js', '.py': 'python' }

export async function deploy(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      name: { type: 'string' },
      runtime: { type: 'string' },
      ...CONNECT_FLAGS,
      memory: { type: 'string' },
      timeout: { type: 'string' },
      cpu: { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
    },
    DEPLOY_USAGE,
  )
  if (values.help) return say(DEPLOY_USAGE)
  const [file, ...extra] = positionals
  if (!file || extra.length > 0) throw new UsageError(`deploy takes one FILE\n\n${DEPLOY_USAGE}`)
  const ext = extname(file)
  const runtime = values.runtime ?? RUNTIMES[ext]
  if (!runtime) throw new UsageError(`cannot tell the runtime of "${file}" from its extension; pass --runtime`)
  const source = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${error.code ?? error.message}`)
  })
  const module = values.name ?? basename(file, ext)
  const limits = given({
    timeoutMs: duration('--timeout', values.timeout),
    cpuMs: duration('--cpu', values.cpu),
    memoryMb: positiveInt('--memory', values.memory),
  })
  const egressAllow = values['allow-host'] ?? []
  const response = await withClient(values, (client) => client.deploy(source, { module, runtime, limits, egressAllow }))
  say(`deployed ${response.module} v${response.version} (${response.runtime})`)
  const defaults = new Set(response.defaultExports)
  for (const fn of response.functions) {
    say(`  ${signature(fn.name, fn.params)}${defaults.has(fn.name) ? ' (default export)' : ''}`)
  }
  if (response.removed.length > 0) say(`removed: ${response.removed.join(', ')}`)
}

/** "2s", "500ms", "1.5s" or plain milliseconds → ms. */
export function duration(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim())
  const ms = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : Number.NaN
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new UsageError(`${name} must be a duration like 2s or 500ms, got "${text}"`)
  }
  return ms
}

function parseArg(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export async function call(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { timeout: { type: 'string' }, ...CONNECT_FLAGS }, CALL_USAGE)
  if (values.help) return say(CALL_USAGE)
  const [name, ...args] = positionals
  if (!name) throw new UsageError(`call needs a function NAME\n\n${CALL_USAGE}`)
  const timeoutMs = positiveInt('--timeout', values.timeout)
  const result = await withClient(values, (client) =>
    client.call(name, args.map(parseArg), timeoutMs === undefined ? {} : { timeoutMs }),
  )
  say(result.json)
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? []
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

export async function ls(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, CONNECT_FLAGS, LS_USAGE)
  if (values.help) return say(LS_USAGE)
  if (positionals.length > 0) throw new UsageError(`ls takes no arguments\n\n${LS_USAGE}`)
  const functions: FunctionInfo[] = await withClient(values, (client) => client.list())
  if (functions.length === 0) return say('no functions deployed')
  const rows = functions.map((f) => [
    f.name,
    f.runtime,
    `v${f.version}`,
    signature(f.name, f.params).slice(f.name.length),
    new Date(f.deployedAtMs).toISOString(),
  ])
  say(table([['NAME', 'RUNTIME', 'VERSION', 'PARAMETERS', 'DEPLOYED'], ...rows]))
}

export async function rm(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, CONNECT_FLAGS, RM_USAGE)
  if (values.help) return say(RM_USAGE)
  const [name, ...extra] = positionals
  if (!name || extra.length > 0) throw new UsageError(`rm takes one function NAME\n\n${RM_USAGE}`)
  const removed = await withClient(values, (client) => client.remove(name))
  say(`removed ${removed.name} (module ${removed.module}, v${removed.version})`)
}

export async function hosts(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, CONNECT_FLAGS, HOSTS_USAGE)
  if (values.help) return say(HOSTS_USAGE)
  if (positionals.length > 0) throw new UsageError(`hosts takes no arguments\n\n${HOSTS_USAGE}`)
  const list = await withClient(values, (client) => client.hosts())
  if (list.length === 0) return say('no hosts connected')
  const rows = list.map((h) => [
    h.hostId,
    h.state,
    h.address,
    h.runtimes.join(','),
    `${h.poolReady}/${h.poolTarget}`,
    `${h.busy}/${h.instances}`,
    String(h.inFlight),
    String(h.capacity),
    `${Math.round(h.rssBytes / (1024 * 1024))} MiB`,
    String(h.pid),
  ])
  say(
    table([
      ['HOST', 'STATE', 'ADDRESS', 'RUNTIMES', 'POOL', 'INSTANCES', 'IN-FLIGHT', 'CAPACITY', 'RSS', 'PID'],
      ...rows,
    ]),
  )
}
