// The floor of this stack: a bare grpc-js server, run as its own process, that
// serves osiris.v1.OsirisService.CallFunction (the same messages and
// serialization as Osiris, without routing or an isolate). Alone, it answers
// at once; with `--forward ADDR` it relays each call to another echo server
// first (two hops, the shape of SDK → controller → host). Prints
// "echo listening on ADDR" when ready; SIGTERM stops it.
import { parseArgs } from 'node:util'
import * as grpc from '@grpc/grpc-js'
import { bindServer, OsirisService, type OsirisServiceClient, type OsirisServiceHandlers } from '@osiris/proto'

const { values } = parseArgs({ options: { forward: { type: 'string' } } })
const next: OsirisServiceClient | undefined = values.forward
  ? new OsirisService(values.forward, grpc.credentials.createInsecure())
  : undefined

const server = new grpc.Server()
const handlers: OsirisServiceHandlers = {
  CallFunction: (call, callback) => {
    if (next) {
      next.CallFunction(call.request, new grpc.Metadata(), {}, (err, res) => callback(err, res))
      return
    }
    const [a, b] = call.request.args.map(Number)
    callback(null, { result: String((a ?? 0) + (b ?? 0)), callId: call.request.callId, hostId: 'echo' })
  },
}
server.addService(OsirisService.service, handlers)
const port = await bindServer(server, '127.0.0.1', 0)
console.log(`echo listening on 127.0.0.1:${port}`)
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)))
