// The floor of this stack: a bare grpc-js server, run as its own process, that
// serves osiris.v1.OsirisService.CallFunction by answering at once (the same
// messages and serialization as Osiris, without routing, a second hop or an
// isolate). Prints "echo listening on ADDR" when ready; SIGTERM stops it.
import * as grpc from '@grpc/grpc-js'
import { bindServer, OsirisService, type OsirisServiceHandlers } from '@osiris/proto'

const server = new grpc.Server()
const handlers: OsirisServiceHandlers = {
  CallFunction: (call, callback) => {
    const [a, b] = call.request.args.map(Number)
    callback(null, { result: String((a ?? 0) + (b ?? 0)), callId: call.request.callId, hostId: 'echo' })
  },
}
server.addService(OsirisService.service, handlers)
const port = await bindServer(server, '127.0.0.1', 0)
console.log(`echo listening on 127.0.0.1:${port}`)
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)))
