// Runs the Python SDK's unittest suite against a real platform: `osiris start`
// as a child process, the functions the suite expects deployed, OSIRIS_URL set.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@osiris/sdk'
import t from 'tap'
import { spawnAsUser, startPlatform } from '../../cli/test/helpers/platform.ts'

const pythonDir = fileURLToPath(new URL('../python', import.meta.url))
const dataDir = mkdtempSync(join(tmpdir(), 'osiris-py-'))
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
const platform = await startPlatform(t, dataDir)
const osiris = connect(platform.grpc)
t.teardown(() => osiris.close())

await osiris.deploy(
  [
    'export function add_numbers(a, b) { return a + b }',
    'export function echo(value) { return value }',
    'export function fail(message) { throw new RangeError(message) }',
    'export function spin() { return new Promise(() => {}) }',
  ].join('\n'),
  { module: 'pytools', runtime: 'js' },
)

t.test('python -m unittest: the Python SDK against this platform', async (t) => {
  const proc = spawnAsUser(
    'python3',
    ['-m', 'unittest', 'discover', '-s', join(pythonDir, 'tests'), '-t', pythonDir, '-v'],
    {
      OSIRIS_URL: `http://${platform.http}`,
      OSIRIS_TOKEN: '',
      PYTHONPATH: pythonDir,
      PYTHONDONTWRITEBYTECODE: '1',
    },
  )
  let output = ''
  proc.stdout?.on('data', (c: Buffer) => (output += c.toString()))
  proc.stderr?.on('data', (c: Buffer) => (output += c.toString()))
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve))
  t.equal(code, 0, output)
  const ran = Number(/^Ran (\d+) tests?/m.exec(output)?.[1])
  t.ok(ran >= 15, `ran ${ran} Python tests`)
  t.match(output, /^OK$/m)
})
