// The verbs that run servers: `start` (controller + one supervised host
// child), `controller`, and `host`.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ContainerExecutor, DockerClient, RUNTIMES } from '@osiris/container-fallback'
import { Controller, loadTokens, type Role } from '@osiris/controller'
import { Host, type StartHostOptions } from '@osiris/isolate-host'
import { parseAddress, type TlsFiles } from '@osiris/proto'
import { given, parse, port, positiveInt, UsageError } from './args.ts'
import { log } from './log.ts'
import { onShutdown } from './shutdown.ts'
import { Supervisor } from './supervisor.ts'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))
const say = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

const CONTROLLER_OPTIONS = `  --port N           gRPC port (default 50051; 0 picks a free one)
  --http-port N      HTTP gateway port (default 8080; 0 picks a free one)
  --bind ADDR        address both listen on (default 127.0.0.1)
  --data-dir DIR     registry and code store (default ./.osiris)
  --max-fn-instances N   most instances of one function on one host (default 32)
  --queue-size N     most calls waiting per function before RESOURCE_EXHAUSTED (default 256)
  --heartbeat-timeout MS a host silent this long is removed (default 3000)
  --tokens-file FILE API tokens, one "ROLE TOKEN" per line (roles: admin, invoke, host,
                     metrics: reads /metrics);
                     also $OSIRIS_TOKENS ("admin=TOKEN;invoke=TOKEN"). Without tokens,
                     auth is off and only loopback addresses may be bound.
  --tls DIR          TLS for clients and mTLS with hosts, with DIR/controller.pem,
                     DIR/controller.key and the cluster CA DIR/ca.pem (made by
                     \`osiris certs init\`); or name the files one by one:
  --tls-cert FILE --tls-key FILE --tls-ca FILE`

const CONTAINER_OPTIONS = `  --no-containers    do not run container runtimes (python), even when an engine answers
  --docker-socket PATH  container engine socket (default $DOCKER_HOST unix://..., else /var/run/docker.sock)
  --container-pool N generic containers kept ready per container runtime (default 1)
  --runtime-image RUNTIME=IMAGE[,...]  image per container runtime (default osiris-runtime/python:bookworm)`

export const START_USAGE = `Usage: osiris start [options]

Runs the whole platform on this machine: the controller, plus isolate hosts as
supervised child processes (each restarted if it dies). Ctrl-C stops them all.

Options:
  --hosts N          isolate host processes (default 1)
  --pool N           warm isolates each host keeps ready (default 8)
  --idle-ttl MS      a host disposes function instances idle this long (default 300000)
  --capacity N       most function instances per host (default 1000)
  --workers N        isolate worker processes per host (default 0: tenant code in the host)
${CONTAINER_OPTIONS}
${CONTROLLER_OPTIONS}`

export const CONTROLLER_USAGE = `Usage: osiris controller [options]

Runs the controller alone; hosts join it with \`osiris host\`.

Options:
${CONTROLLER_OPTIONS}`

export const HOST_USAGE = `Usage: osiris host --controller HOST:PORT [options]

Runs an isolate host that registers with the controller and serves its calls.

Options:
  --controller ADDR  controller gRPC address (default $OSIRIS_ADDR or 127.0.0.1:50051)
  --listen ADDR      where this host's gRPC service listens (default 127.0.0.1:0)
  --advertise ADDR   address the controller should dial (default: the bound listen address)
  --id ID            host id (default: random)
  --pool N           warm isolates kept ready (default 8)
  --memory MB        heap limit per isolate (default 128)
  --idle-ttl MS      dispose function instances idle this long (default 300000)
  --capacity N       most function instances at once (default 1000)
  --workers N        isolate worker processes tenant code runs in (default 0:
                     in the host process); each has its own warm pool, and a
                     crash ends in its worker (see isolate-host/README.md)
  --worker-memory MB OS memory cap of each worker process (default 4096)
${CONTAINER_OPTIONS}
  --metrics ADDR     serve Prometheus metrics at http://ADDR/metrics (port 0 picks one);
                     anything but loopback needs --metrics-token
  --metrics-token T  bearer token GET /metrics asks for (default $OSIRIS_METRICS_TOKEN)
  --token TOKEN      token with role host, when the controller requires one
                     (default $OSIRIS_TOKEN)
  --tls DIR          mTLS with the controller, with DIR/ID.pem, DIR/ID.key (ID from
                     --id) and the cluster CA DIR/ca.pem; or one by one:
  --tls-cert FILE --tls-key FILE --tls-ca FILE
                     The host's id is its certificate's CN.

SIGTERM or Ctrl-C drains: the controller stops routing here, calls in flight
finish, then the host leaves.`

const CONTROLLER_FLAGS = {
  port: { type: 'string' },
  'http-port': { type: 'string' },
  bind: { type: 'string' },
  'data-dir': { type: 'string' },
  'max-fn-instances': { type: 'string' },
  'queue-size': { type: 'string' },
  'heartbeat-timeout': { type: 'string' },
  'tokens-file': { type: 'string' },
} as const

const TLS_FLAGS = {
  tls: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
} as const

const HOST_TUNING_FLAGS = {
  workers: { type: 'string' },
  pool: { type: 'string' },
  'idle-ttl': { type: 'string' },
  capacity: { type: 'string' },
} as const

const CONTAINER_FLAGS = {
  'no-containers': { type: 'boolean' },
  'docker-socket': { type: 'string' },
  'container-pool': { type: 'string' },
  'runtime-image': { type: 'string' },
} as const

type Values = Partial<Record<string, string | boolean | undefined>>

function text(values: Values, name: string): string | undefined {
  const v = values[name]
  return typeof v === 'string' ? v : undefined
}

/**
 * The TLS files from --tls DIR (DIR/NAME.pem, DIR/NAME.key, DIR/ca.pem) and
 * the --tls-* flags, which win; none given: no TLS.
 */
function tlsFiles(values: Values, name: string | undefined): TlsFiles | undefined {
  const dir = text(values, 'tls')
  const inDir = (file: string | undefined): string | undefined => (dir && file ? join(dir, file) : undefined)
  const cert = text(values, 'tls-cert') ?? inDir(name && `${name}.pem`)
  const key = text(values, 'tls-key') ?? inDir(name && `${name}.key`)
  const ca = text(values, 'tls-ca') ?? inDir('ca.pem')
  if (!dir && !cert && !key && !ca) return undefined
  if (dir && !name && !(cert && key)) throw new UsageError('--tls DIR on a host needs --id ID, to use DIR/ID.pem')
  if (!cert || !key || !ca) {
    throw new UsageError(
      'TLS needs a certificate, its key and the cluster CA: --tls DIR, or --tls-cert, --tls-key and --tls-ca',
    )
  }
  return { cert, key, ca }
}

/**
 * Where this machine's own processes reach a server bound to `address`: a
 * wildcard bind (0.0.0.0, ::) is dialed on loopback, which the controller's
 * certificate names, where the wildcard is no address to verify.
 */
function localAddress(address: string): string {
  const { host, port } = parseAddress(address)
  if (host === '0.0.0.0') return `127.0.0.1:${port}`
  if (host === '::') return `[::1]:${port}`
  return address
}

/** Host tuning flags passed on to each supervised host child. */
function hostTuningArgs(values: Values): string[] {
  return Object.keys(HOST_TUNING_FLAGS).flatMap((flag) => {
    const v = text(values, flag)
    if (v === undefined) return []
    if (flag === 'workers') workerCount(v)
    else positiveInt(`--${flag}`, v)
    return [`--${flag}`, v]
  })
}

/** --workers: an integer ≥ 0 (0: tenant code in the host process). */
function workerCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`--workers takes an integer ≥ 0, got "${value}"`)
  return Number(value)
}

/** Container flags passed on to each supervised host child. */
function containerArgs(values: Record<string, unknown>): string[] {
  const args: string[] = []
  if (values['no-containers'] === true) args.push('--no-containers')
  for (const flag of ['docker-socket', 'container-pool', 'runtime-image'] as const) {
    const v = values[flag]
    if (typeof v === 'string') args.push(`--${flag}`, v)
  }
  return args
}

function runtimeImages(list: string | undefined): Record<string, string> {
  const images: Record<string, string> = {}
  for (const entry of list ? list.split(',') : []) {
    const eq = entry.indexOf('=')
    const runtime = entry.slice(0, eq)
    if (eq <= 0 || !RUNTIMES.some((r) => r.name === runtime)) {
      throw new UsageError(
        `--runtime-image takes RUNTIME=IMAGE with RUNTIME one of ${RUNTIMES.map((r) => r.name).join(', ')}, got "${entry}"`,
      )
    }
    images[runtime] = entry.slice(eq + 1)
  }
  return images
}

interface ContainerValues {
  'no-containers'?: boolean | undefined
  'docker-socket'?: string | undefined
  'container-pool'?: string | undefined
  'runtime-image'?: string | undefined
  'idle-ttl'?: string | undefined
}

/**
 * The container executor when an engine answers, for the runtimes whose image
 * is there; else nothing, and this host simply does not offer those runtimes.
 */
async function containerExecutors(values: ContainerValues): Promise<StartHostOptions['executors']> {
  if (values['no-containers']) return undefined
  const images = runtimeImages(values['runtime-image'])
  const poolTarget = positiveInt('--container-pool', values['container-pool'])
  const idleTtlMs = positiveInt('--idle-ttl', values['idle-ttl'])
  let docker: DockerClient
  try {
    docker = new DockerClient(values['docker-socket'])
  } catch (error) {
    log(`container runtimes off: ${(error as Error).message}`, {}, 'warn')
    return undefined
  }
  const runtimes: string[] = []
  try {
    await docker.ping()
    for (const spec of RUNTIMES) {
      const image = images[spec.name] ?? spec.image
      if (await docker.hasImage(image)) runtimes.push(spec.name)
      else log(`runtime ${spec.name} off: image ${image} is missing (build it with: osiris runtime build ${spec.name})`)
    }
  } catch {
    log(`container runtimes off: no container engine answers at ${docker.socketPath}`, {}, 'warn')
    return undefined
  } finally {
    await docker.close()
  }
  if (runtimes.length === 0) return undefined
  const socketPath = docker.socketPath
  log(`container runtimes ${runtimes.join(', ')} on the engine at ${socketPath}`, { runtimes, socketPath })
  return (host) => [
    new ContainerExecutor({
      runtimes,
      images,
      socketPath,
      ...given({ poolTarget, idleTtlMs }),
      code: host.code,
      keepCode: host.keepCode,
      onChange: host.onChange,
      onLog: host.onLog,
    }),
  ]
}

async function startController(values: Values, extraTokens: Array<{ role: Role; token: string }> = []) {
  const bind = text(values, 'bind') ?? '127.0.0.1'
  const tls = tlsFiles(values, 'controller')
  const configured = loadTokens(text(values, 'tokens-file'), process.env.OSIRIS_TOKENS)
  const tokens = configured.length > 0 ? [...configured, ...extraTokens] : []
  const controller = await Controller.start({
    tokens,
    ...given({ tls }),
    listen: `${bind}:${port('--port', text(values, 'port'), 50051)}`,
    httpListen: `${bind}:${port('--http-port', text(values, 'http-port'), 8080)}`,
    ...given({
      dataDir: text(values, 'data-dir'),
      maxInstancesPerFunction: positiveInt('--max-fn-instances', text(values, 'max-fn-instances')),
      maxQueuedPerFunction: positiveInt('--queue-size', text(values, 'queue-size')),
      heartbeatTimeoutMs: positiveInt('--heartbeat-timeout', text(values, 'heartbeat-timeout')),
    }),
  })
  const scheme = tls ? 'https' : 'http'
  log(
    `controller listening on ${controller.address} (gRPC) and ${scheme}://${controller.httpAddress} (HTTP); data in ${controller.options.dataDir}`,
    { grpc: controller.address, http: controller.httpAddress, dataDir: controller.options.dataDir },
  )
  log(
    tls
      ? `tls: on (certificate ${tls.cert}); hosts must present a certificate signed by ${tls.ca}`
      : 'tls: off (plaintext gRPC and HTTP)',
    { tls: tls !== undefined },
  )
  log(
    controller.authEnabled
      ? `auth: on (${configured.length} API tokens)`
      : 'auth: off (no API tokens configured), so the controller listens on loopback only',
    { auth: controller.authEnabled },
  )
  controller.hosts.on('added', (h) =>
    log(`host ${h.id} connected from ${h.address} (pid ${h.pid})`, { hostId: h.id, address: h.address, pid: h.pid }),
  )
  controller.hosts.on('removed', (h) =>
    log(`host ${h.id} disconnected`, { hostId: h.id, reason: h.goneReason }, 'warn'),
  )
  return controller
}

export async function start(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    { ...CONTROLLER_FLAGS, ...TLS_FLAGS, ...HOST_TUNING_FLAGS, ...CONTAINER_FLAGS, hosts: { type: 'string' } },
    START_USAGE,
  )
  if (values.help) return say(START_USAGE)
  const count = positiveInt('--hosts', values.hosts) ?? 1
  const tuning = [...hostTuningArgs(values), ...containerArgs(values)]
  // With TLS, host N uses DIR/host-N.pem, as `osiris certs init --hosts N` makes them.
  const tlsDir = text(values, 'tls')
  if (tlsFiles(values, 'controller') && !tlsDir) {
    throw new UsageError('osiris start takes --tls DIR: its hosts need their certificates (DIR/host-N.pem) from it')
  }
  const hostTls = (i: number): string[] => (tlsDir ? ['--tls', tlsDir, '--id', `host-${i + 1}`] : [])
  for (let i = 0; tlsDir && i < count; i++) {
    if (!existsSync(join(tlsDir, `host-${i + 1}.pem`))) {
      throw new UsageError(
        `${tlsDir} has no certificate for host-${i + 1}: run osiris certs host host-${i + 1} --dir ${tlsDir}`,
      )
    }
  }
  // The supervised hosts get their own token (role host), used only when auth is on.
  const hostToken = randomBytes(24).toString('base64url')
  const controller = await startController(values, [{ role: 'host', token: hostToken }])
  const supervisors = Array.from(
    { length: count },
    (_, i) =>
      new Supervisor({
        name: `host ${i + 1}`,
        command: process.execPath,
        args: [
          '--no-node-snapshot',
          '--conditions=osiris-source',
          MAIN,
          'host',
          '--controller',
          localAddress(controller.address),
          ...hostTls(i),
          ...tuning,
        ],
        env: controller.authEnabled ? { OSIRIS_TOKEN: hostToken } : {},
        log: (line) => log(line, { component: 'supervisor' }, 'warn'),
      }),
  )
  onShutdown(async () => {
    await Promise.all(supervisors.map((s) => s.stop(5000)))
    await controller.close(5000)
  })
  const all = new Promise<void>((resolve) => {
    const seen = (): void => {
      if (controller.hosts.list().length < count) return
      controller.hosts.off('added', seen)
      resolve()
    }
    controller.hosts.on('added', seen)
  })
  for (const supervisor of supervisors) supervisor.start()
  await all
  const deploy = tlsDir ? `npx osiris deploy FILE --ca ${join(tlsDir, 'ca.pem')}` : 'npx osiris deploy FILE'
  const scheme = tlsDir ? 'https' : 'http'
  log(
    `Osiris is ready. Deploy with: ${deploy}   (gRPC ${controller.address}, HTTP ${scheme}://${controller.httpAddress})`,
    { grpc: controller.address, http: controller.httpAddress, hosts: count },
  )
}

export async function controller(argv: string[]): Promise<void> {
  const { values } = parse(argv, { ...CONTROLLER_FLAGS, ...TLS_FLAGS }, CONTROLLER_USAGE)
  if (values.help) return say(CONTROLLER_USAGE)
  const running = await startController(values)
  onShutdown(() => running.close(5000))
}

export async function host(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      controller: { type: 'string' },
      listen: { type: 'string' },
      advertise: { type: 'string' },
      id: { type: 'string' },
      memory: { type: 'string' },
      'worker-memory': { type: 'string' },
      token: { type: 'string' },
      metrics: { type: 'string' },
      'metrics-token': { type: 'string' },
      ...HOST_TUNING_FLAGS,
      ...CONTAINER_FLAGS,
      ...TLS_FLAGS,
    },
    HOST_USAGE,
  )
  if (values.help) return say(HOST_USAGE)
  const controllerAddress = values.controller ?? process.env.OSIRIS_ADDR ?? '127.0.0.1:50051'
  const executors = await containerExecutors(values)
  const running = await Host.start({
    controller: controllerAddress,
    ...given({ executors }),
    ...given({
      listen: values.listen,
      advertise: values.advertise,
      hostId: values.id,
      workers: workerCount(values.workers),
      workerMemoryMb: positiveInt('--worker-memory', values['worker-memory']),
      poolTarget: positiveInt('--pool', values.pool),
      memoryLimitMb: positiveInt('--memory', values.memory),
      idleTtlMs: positiveInt('--idle-ttl', values['idle-ttl']),
      maxInstances: positiveInt('--capacity', values.capacity),
      token: values.token ?? (process.env.OSIRIS_TOKEN || undefined),
      metricsListen: values.metrics,
      metricsToken: values['metrics-token'] ?? (process.env.OSIRIS_METRICS_TOKEN || undefined),
      tls: tlsFiles(values, values.id),
    }),
  })
  onShutdown(() => running.close(5000))
  log(`host ${running.id} serving on ${running.address}; registering with controller ${controllerAddress}`, {
    hostId: running.id,
    address: running.address,
    controller: controllerAddress,
  })
  if (running.metricsAddress) log(`host ${running.id} metrics at http://${running.metricsAddress}/metrics`)
  await running.registered()
  log(`host ${running.id} registered (pid ${process.pid})`, { hostId: running.id, pid: process.pid })
}
