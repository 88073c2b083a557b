// Starts the bare grpc-js echo server as a separate process and calls it with
// a bare grpc-js client in this process: the same-run baseline that the
// end-to-end budgets are stated against.
import * as grpc from '@grpc/grpc-js'
import { OsirisService, type OsirisServiceClient } from '@osiris/proto'
import { Child, NODE_FLAGS } from '../processes.ts'

export class EchoPair {
  readonly server: Child
  readonly client: OsirisServiceClient

  private constructor(server: Child, address: string) {
    this.server = server
    this.client = new OsirisService(address, grpc.credentials.createInsecure())
  }

  static async start(): Promise<EchoPair> {
    const file = new URL('./echo-server.ts', import.meta.url).pathname
    const server = new Child('echo server', process.execPath, [...NODE_FLAGS, file])
    const m = await server.waitFor(/^echo listening on (\S+)/)
    return new EchoPair(server, m[1] ?? '')
  }

  /** One CallFunction round trip; resolves the result text. */
  call(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.client.CallFunction({ functionName: 'addNumbers', args: ['3', '5'] }, new grpc.Metadata(), {}, (err, res) =>
        err || !res ? reject(err ?? new Error('echo: empty response')) : resolve(res.result),
      )
    })
  }

  async close(): Promise<void> {
    this.client.close()
    await this.server.stop()
  }
}
