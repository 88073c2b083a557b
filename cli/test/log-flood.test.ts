// An exec script writing 600 lines of 32 KiB (19 MiB) to stderr used to make
// its host forward one log batch past the controller's message limit; the
// controller cancelled the host's stream and the host was dropped. Now the
// host holds each call to its log budget in bytes (whatever the shim sent),
// marks the cut, and batches stay under the wire limit: the host stays
// registered, a neighbour keeps answering, the logs say they were truncated.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOG_MARKER_SLACK } from '@osiris/proto'
import { connect, type LogLine } from '@osiris/sdk'
import t from 'tap'
import { startPlatform } from './helpers/platform.ts'

const FLOOD = `#!/bin/sh
read -r args
python3 -c 'import sys
line = "e" * (32 * 1024)
for i in range(600):
    sys.stderr.write("%d %s\\n" % (i, line))
print(600)'
`

t.test('an exec stderr flood: host stays registered, neighbours answer, logs marked truncated', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'osiris-log-flood-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const platform = await startPlatform(t, join(dir, 'data'))
  const client = connect(platform.grpc)
  t.teardown(() => client.close())
  await client.deploy('export function neighbour(n) { return n + 1 }', { module: 'neighbour', runtime: 'js' })
  await client.deploy(FLOOD, { module: 'flood', runtime: 'exec' })
  const [before] = await client.hosts()
  if (!before) throw new Error('no host')

  let answered = 0
  const failures: unknown[] = []
  let flooding = true
  const neighbour = (async () => {
    while (flooding) {
      await client.callFunction('neighbour', answered).then(
        () => answered++,
        (error: unknown) => failures.push(error),
      )
    }
  })()
  const results = await Promise.all([1, 2, 3].map(() => client.callFunction('flood')))
  t.same(results, [600, 600, 600], 'each flooding call answered')
  flooding = false
  await neighbour
  t.same(failures, [], 'the neighbour never failed')
  t.ok(answered > 0, `the neighbour answered ${answered} calls meanwhile`)

  const [after] = await client.hosts()
  t.equal(after?.hostId, before.hostId)
  t.equal(after?.pid, before.pid, 'the host process is the same')
  t.equal(after?.connectedAtMs, before.connectedAtMs, 'the host never lost its registration')

  const lines: LogLine[] = []
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    lines.length = 0
    for await (const line of client.logs('flood', { limit: 1000 })) lines.push(line)
    if (lines.filter((l) => l.line.startsWith('[osiris] console output truncated')).length === 3) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const markers = lines.filter(
    (l) => l.line === '[osiris] console output truncated: more than 65536 bytes in this call',
  )
  t.equal(markers.length, 3, 'each call ends its output with one marker line')
  for (const callId of new Set(lines.map((l) => l.callId))) {
    const bytes = lines
      .filter((l) => l.callId === callId && !markers.includes(l))
      .reduce((n, l) => n + l.line.length + 1, 0)
    // The budget, plus the room kept for a marker line a runtime writes itself when it cuts.
    t.ok(bytes <= 65536 + LOG_MARKER_SLACK, `call ${callId}: ${bytes} bytes of output kept`)
  }
})
