// Which grpc-js channel options change a warm unary call's cost: the bare
// echo server (separate process) called with the default channel and with
// retries and/or channelz off, interleaved in one run, with this process's
// CPU per call.
//   node --no-node-snapshot --conditions=osiris-source bench/scripts/channel-options.ts [N]
import * as grpc from '@grpc/grpc-js'
import { OsirisService, type OsirisServiceClient } from '@osiris/proto'
import { EchoPair } from '../src/e2e/echo.ts'
import { sample, summarize, timed } from '../src/measure.ts'
import { stopAll } from '../src/processes.ts'

const n = Number(process.argv[2] ?? 3000)
const echo = await EchoPair.start()
const address = echo.client.getChannel().getTarget().replace(/^dns:/, '')
const variants: [string, grpc.ChannelOptions][] = [
  ['default', {}],
  ['retries off', { 'grpc.enable_retries': 0 }],
  ['channelz off', { 'grpc.enable_channelz': 0 }],
  ['retries + channelz off', { 'grpc.enable_retries': 0, 'grpc.enable_channelz': 0 }],
]
const clients = variants.map(([, options]) => new OsirisService(address, grpc.credentials.createInsecure(), options))
const call = (client: OsirisServiceClient) => () =>
  new Promise<void>((resolve, reject) =>
    client.CallFunction({ functionName: 'addNumbers', args: ['3', '5'] }, new grpc.Metadata(), {}, (err) =>
      err ? reject(err) : resolve(),
    ),
  )
try {
  for (let round = 0; round < 2; round++) {
    for (const [i, [label]] of variants.entries()) {
      const client = clients[i] as OsirisServiceClient
      const cpu = process.cpuUsage()
      const m = summarize(label, label, await sample(n, 200, () => timed(call(client))))
      const used = process.cpuUsage(cpu)
      const perCall = (used.user + used.system) / (n + 200)
      console.log(
        `${label.padEnd(24)} p50 ${m.p50.toFixed(3)}  p95 ${m.p95.toFixed(3)} ms; client CPU ${perCall.toFixed(0)} µs/call`,
      )
    }
  }
} finally {
  for (const c of clients) c.close()
  await echo.close()
  await stopAll()
}
