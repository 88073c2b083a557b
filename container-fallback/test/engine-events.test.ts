// The engine's event stream outlives an engine restart: when the engine ends
// the stream, the executor's listener reopens it, asking for the events since
// the last one it saw, so an OOM kill during the gap is still told. The engine
// here is a stand-in on a unix socket that ends the first stream on purpose,
// which a real engine does only when it restarts (under every other test).
// It also sends what a real engine does too rarely to test on one: a line
// that is not JSON, and a SIGKILL death whose "oom" event it lost.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { DockerClient } from '../src/docker-client.ts'
import { EngineEvents } from '../src/engine-events.ts'

t.test('a stream the engine ends is reopened from the last event seen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'osiris-events-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const socket = join(dir, 'engine.sock')
  const requests: URLSearchParams[] = []
  const firstAt = 1_700_000_000
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://engine')
    requests.push(url.searchParams)
    res.writeHead(200, { 'content-type': 'application/json' })
    const event = (id: string, action: string, atS: number, exitCode?: number) =>
      `${JSON.stringify({
        Type: 'container',
        Action: action,
        Actor: { ID: id, Attributes: exitCode === undefined ? {} : { exitCode: String(exitCode) } },
        timeNano: atS * 1e9,
      })}\n`
    if (requests.length === 1) {
      res.end(event('first', 'die', firstAt, 0)) // the engine goes away
    } else {
      res.write(event('second', 'oom', firstAt + 5))
      res.write(event('second', 'die', firstAt + 5, 137))
      res.write('not json\n')
      // The engine lost this one's "oom" (it removed the container first).
      res.write(event('lost-oom', 'die', firstAt + 6, 137))
      res.write(event('killed', 'kill', firstAt + 7))
      res.write(event('killed', 'die', firstAt + 7, 137))
    }
  })
  await new Promise<void>((resolve) => server.listen(socket, resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const docker = new DockerClient(`unix://${socket}`)
  const events = new EngineEvents()
  t.teardown(() => {
    events.close()
    docker.close()
  })
  await events.listen(docker, 'dev.osiris.executor=test')
  t.same(await events.ending('first'), { oomKilled: false, exitCode: 0 })
  t.same(await events.ending('second'), { oomKilled: true, exitCode: 137 }, 'told over the reopened stream')
  t.same(await events.ending('lost-oom'), { oomKilled: true, exitCode: 137 }, 'a SIGKILL nobody asked for')
  t.same(await events.ending('killed'), { oomKilled: false, exitCode: 137 }, 'a SIGKILL the engine was asked for')
  t.equal(requests.length, 2)
  t.equal(requests[0]?.get('since'), null, 'the first stream starts now')
  t.equal(requests[1]?.get('since'), String(firstAt), 'the reopened one replays from the last event seen')
  t.same(JSON.parse(requests[1]?.get('filters') ?? '{}'), {
    type: ['container'],
    event: ['oom', 'kill', 'die'],
    label: ['dev.osiris.executor=test'],
  })
})
