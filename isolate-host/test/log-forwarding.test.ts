// A host forwards function console output to its controller in batches over
// its Connect stream. A flood (600 lines of 32 KiB: 19 MiB) used to go out as
// one batch past the controller's 16 MiB message limit, which ended the
// host's stream and dropped the host. Batches now stay under LOG_BATCH_BYTES,
// the buffer under LOG_BUFFER_BYTES, and what is dropped is said in a marker
// line. The peer here is a real gRPC server with the controller's limits.
import * as grpc from '@grpc/grpc-js'
import {
  bindServer,
  type HostMessage,
  type HostRegistryHandlers,
  HostRegistry as HostRegistryService,
  type LogLine,
  SERVER_OPTIONS,
} from '@osiris/proto'
import t from 'tap'
import { LOG_BATCH_BYTES, LOG_BUFFER_BYTES, RegistryClient } from '../src/registry-client.ts'

async function eventually(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('a log flood goes out in bounded batches; the stream stays up; drops are marked', async (t) => {
  const batches: LogLine[][] = []
  const streamErrors: unknown[] = []
  let registrations = 0
  const handlers: HostRegistryHandlers = {
    Connect: (stream) => {
      stream.on('data', (message: HostMessage) => {
        if (message.message === 'register') {
          registrations++
          stream.write({ registered: { hostId: message.register.hostId, heartbeatIntervalMs: 1000 } })
        } else if (message.message === 'logs') batches.push(message.logs.lines)
      })
      stream.on('error', (error) => streamErrors.push(error))
    },
    FetchCode: (_call, callback) => callback({ code: grpc.status.NOT_FOUND, details: 'none' }),
  }
  const server = new grpc.Server(SERVER_OPTIONS)
  server.addService(HostRegistryService.service, handlers)
  const port = await bindServer(server, '127.0.0.1', 0)
  t.teardown(() => server.forceShutdown())
  const client = new RegistryClient({
    controller: `127.0.0.1:${port}`,
    tls: undefined,
    token: undefined,
    register: { hostId: 'flooder', address: '127.0.0.1:1', runtimes: ['js'], capacity: 1, pid: 1, callKey: 'k' },
    status: () => ({
      poolReady: 0,
      poolTarget: 0,
      inFlight: 0,
      instances: [],
      rssBytes: 0,
      cachedCode: [],
      draining: false,
    }),
    onEvict: () => {},
    onDrainAck: () => {},
    onRefused: (message) => t.fail(`refused: ${message}`),
    heartbeatMs: 1000,
    coalesceMs: 20,
  })
  t.teardown(() => client.close())
  await client.ready()

  const line = 'x'.repeat(32 * 1024)
  for (let i = 0; i < 600; i++) {
    client.log({
      timeMs: Date.now(),
      level: 'error',
      module: 'flood',
      version: 1,
      functionName: 'flood',
      callId: `call-${i}`,
      line: `${i} ${line}`,
    })
  }
  client.log({
    timeMs: Date.now(),
    level: 'info',
    module: 'n',
    version: 1,
    functionName: 'n',
    callId: 'last',
    line: 'end',
  })
  await eventually(() => batches.flat().some((l) => l.callId === 'last'), 'the last line arriving')

  const lines = batches.flat()
  const flood = lines.filter((l) => l.functionName === 'flood' && l.callId !== '')
  const textBytes = (batch: LogLine[]) => batch.reduce((n, l) => n + Buffer.byteLength(l.line), 0)
  t.ok(
    batches.every((b) => textBytes(b) <= LOG_BATCH_BYTES),
    `every batch at most ${LOG_BATCH_BYTES} bytes (largest ${Math.max(...batches.map(textBytes))})`,
  )
  t.ok(textBytes(flood) <= LOG_BUFFER_BYTES, 'no more than the buffer was held')
  const marker = lines.find((l) => l.functionName === 'flood' && l.callId === '')
  const dropped = 600 - flood.length
  t.ok(dropped > 0, `${dropped} lines were dropped`)
  t.equal(
    marker?.line,
    `[osiris] ${dropped} log lines of "flood" dropped on host flooder: more were waiting to be sent than it holds`,
  )
  t.same(
    flood.map((l) => l.callId),
    Array.from({ length: flood.length }, (_, i) => `call-${dropped + i}`),
    'the newest lines kept, in order',
  )
  t.same(streamErrors, [], 'the stream never failed')
  t.equal(registrations, 1, 'the host never had to register again')
  t.ok(client.registered)
})
