// Starts the bare grpc-js echo server as a separate process and calls it with
// a bare grpc-js client in this process: the same-run baseline that the
// end-to-end budgets are stated against. `relay()` adds a second echo process
// in front that forwards each call (the floor of a two-hop path).
import * as grpc from '@grpc/grpc-js'
import { OsirisService, type OsirisServiceClient } from '@osiris/proto'
import { Child, NODE_FLAGS } from '../processes.ts'

const SERVER = new URL('./echo-server.ts', import.meta.url).pathname

async function startServer(name: string, args: string[]): Promise<{ child: Child; address: string }> {
  const child = new Child(name, process.execPath, [...NODE_FLAGS, SERVER, ...args])
  const m = await child.waitFor(/^echo listening on (\S+)/)
  return { child, address: m[1] ?? '' }
}

export class EchoPair {
  readonly servers: Child[]
  readonly client: OsirisServiceClient

  private constructor(servers: Child[], address: string) {
    this.servers = servers
    this.client = new OsirisService(address, grpc.credentials.createInsecure())
  }

  /** Client → echo server (two processes). */
  static async start(): Promise<EchoPair> {
    const echo = await startServer('echo server', [])
    return new EchoPair([echo.child], echo.address)
  }

  /** Client → relay → echo server (three processes, two hops). */
  static async relay(): Promise<EchoPair> {
    const echo = await startServer('echo server', [])
    try {
      const relay = await startServer('echo relay', ['--forward', echo.address])
      return new EchoPair([relay.child, echo.child], relay.address)
    } catch (error) {
      await echo.child.stop()
      throw error
    }
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
    for (const server of this.servers) await server.stop()
  }
}
