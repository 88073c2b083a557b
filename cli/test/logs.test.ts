// Function console output reaches `osiris logs`: recent lines, and with -f
// each new line live over the server-streaming TailLogs RPC.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { connect } from '@osiris/sdk'
import t from 'tap'
import { eventually, runCli, spawnOsiris, startPlatform } from './helpers/platform.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-logs-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const platform = await startPlatform(t, join(dir, 'data'))
const osiris = connect(platform.grpc)
t.teardown(() => osiris.close())
await osiris.deploy(
  'export function chatty(word) { console.log("said", word); console.error("oops", { word }); return word }',
  { module: 'chatty', runtime: 'js' },
)
const env = { OSIRIS_ADDR: platform.grpc }

t.test('osiris logs -f receives a line printed by a function', async (t) => {
  const follower = spawnOsiris(['logs', 'chatty', '-f'], env)
  t.teardown(() => {
    if (follower.exitCode === null) follower.kill('SIGKILL')
  })
  const lines: string[] = []
  createInterface({ input: follower.stdout! }).on('line', (line) => lines.push(line))
  // The stream is open once the controller has it; calls made after that are followed.
  await eventually(
    async () => {
      await osiris.call('chatty', ['hello'])
      return lines.some((l) => l.endsWith(' said hello'))
    },
    10_000,
    'the followed line',
  )
  const said = lines.find((l) => l.endsWith(' said hello')) ?? ''
  t.match(said, /^\d{4}-\d\d-\d\dT[\d:.]+Z info {2}v\d+ [0-9a-f-]{36} said hello$/)
  await eventually(
    async () => lines.some((l) => /^\S+ error v\d+ \S+ oops \{ word: 'hello' \}$/.test(l)),
    5000,
    'error line',
  )
  const exited = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)))
  follower.kill('SIGINT')
  t.equal(await exited, 0, 'Ctrl-C ends -f cleanly')
})

t.test('osiris logs prints recent lines and exits; unknown functions are NOT_FOUND', async (t) => {
  await osiris.call('chatty', ['again'])
  await eventually(
    async () => (await runCli(['logs', 'chatty', '--limit', '50'], env)).stdout.includes(' said again\n'),
    5000,
    'recent line',
  )
  const recent = await runCli(['logs', 'chatty', '--limit', '1'], env)
  t.equal(recent.code, 0)
  t.equal(recent.stdout.trimEnd().split('\n').length, 1, '--limit 1 prints one line')
  const missing = await runCli(['logs', 'nobody'], env)
  t.equal(missing.code, 1)
  t.equal(missing.stderr, 'error NOT_FOUND: function "nobody" is not deployed and has no logs\n')
})
