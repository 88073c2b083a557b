// The verbs that run servers: `start` (controller + one supervised host
// child), `controller`, and `host`.
import { fileURLToPath } from 'node:url'
import { Controller } from '@osiris/controller'
import { Host } from '@osiris/isolate-host'
import { parse, port, positiveInt } from './args.ts'
import { onShutdown } from './shutdown.ts'
import { Supervisor } from './supervisor.ts'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))
const say = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

export const START_USAGE = `Usage: osiris start [options]

Runs the whole platform on this machine: the controller, plus one isolate host
as a supervised child process (restarted if it dies). Ctrl-C stops both.

Options:
  --port N           gRPC port (default 50051; 0 picks a free one)
  --http-port N      HTTP gateway port (default 8080; 0 picks a free one)
  --bind ADDR        address both listen on (default 127.0.0.1)
  --data-dir DIR     registry and code store (default ./.osiris)
  --pool N           warm isolates the host keeps ready (default 8)`

export const CONTROLLER_USAGE = `Usage: osiris controller [options]

Runs the controller alone; hosts join it with \`osiris host\`.

Options:
  --port N           gRPC port (default 50051; 0 picks a free one)
  --http-port N      HTTP gateway port (default 8080; 0 picks a free one)
  --bind ADDR        address both listen on (default 127.0.0.1)
  --data-dir DIR     registry and code store (default ./.osiris)`

export const HOST_USAGE = `Usage: osiris host --controller HOST:PORT [options]

Runs an isolate host that registers with the controller and serves its calls.

Options:
  --controller ADDR  controller gRPC address (default $OSIRIS_ADDR or 127.0.0.1:50051)
  --listen ADDR      where this host's gRPC service listens (default 127.0.0.1:0)
  --advertise ADDR   address the controller should dial (default: the bound listen address)
  --id ID            host id (default: random)
  --pool N           warm isolates kept ready (default 8)
  --memory MB        heap limit per isolate (default 128)`

const CONTROLLER_FLAGS = {
  port: { type: 'string' },
  'http-port': { type: 'string' },
  bind: { type: 'string' },
  'data-dir': { type: 'string' },
} as const

async function startController(values: { port?: string; 'http-port'?: string; bind?: string; 'data-dir'?: string }) {
  const bind = values.bind ?? '127.0.0.1'
  const controller = await Controller.start({
    listen: `${bind}:${port('--port', values.port, 50051)}`,
    httpListen: `${bind}:${port('--http-port', values['http-port'], 8080)}`,
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
  })
  say(
    `controller listening on ${controller.address} (gRPC) and http://${controller.httpAddress} (HTTP); data in ${controller.options.dataDir}`,
  )
  controller.hosts.on('added', (h) => say(`host ${h.id} connected from ${h.address} (pid ${h.pid})`))
  controller.hosts.on('removed', (h) => say(`host ${h.id} disconnected`))
  return controller
}

export async function start(argv: string[]): Promise<void> {
  const { values } = parse(argv, { ...CONTROLLER_FLAGS, pool: { type: 'string' } }, START_USAGE)
  if (values.help) return say(START_USAGE)
  const pool = positiveInt('--pool', values.pool)
  const controller = await startController(values)
  const hostArgs = ['host', '--controller', controller.address, ...(pool ? ['--pool', String(pool)] : [])]
  const supervisor = new Supervisor({
    name: 'host',
    command: process.execPath,
    args: ['--no-node-snapshot', '--conditions=osiris-source', MAIN, ...hostArgs],
    log: say,
  })
  onShutdown(async () => {
    await supervisor.stop(5000)
    await controller.close(5000)
  })
  const first = new Promise<void>((resolve) => controller.hosts.once('added', () => resolve()))
  supervisor.start()
  await first
  say(
    `Osiris is ready. Deploy with: npx osiris deploy FILE   (gRPC ${controller.address}, HTTP http://${controller.httpAddress})`,
  )
}

export async function controller(argv: string[]): Promise<void> {
  const { values } = parse(argv, CONTROLLER_FLAGS, CONTROLLER_USAGE)
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
      pool: { type: 'string' },
      memory: { type: 'string' },
    },
    HOST_USAGE,
  )
  if (values.help) return say(HOST_USAGE)
  const controllerAddress = values.controller ?? process.env.OSIRIS_ADDR ?? '127.0.0.1:50051'
  const pool = positiveInt('--pool', values.pool)
  const memory = positiveInt('--memory', values.memory)
  const running = await Host.start({
    controller: controllerAddress,
    ...(values.listen === undefined ? {} : { listen: values.listen }),
    ...(values.advertise === undefined ? {} : { advertise: values.advertise }),
    ...(values.id === undefined ? {} : { hostId: values.id }),
    ...(pool === undefined ? {} : { poolTarget: pool }),
    ...(memory === undefined ? {} : { memoryLimitMb: memory }),
  })
  onShutdown(() => running.close(5000))
  say(`host ${running.id} serving on ${running.address}; registering with controller ${controllerAddress}`)
  await running.registered()
  say(`host ${running.id} registered (pid ${process.pid})`)
}
