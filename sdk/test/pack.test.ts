// `npm pack` of the SDK installs and works in a fresh directory with no other
// Osiris package present: it calls a function on a real platform.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@osiris/sdk'
import t from 'tap'
import { spawnAsUser, startPlatform } from '../../cli/test/helpers/platform.ts'

const packScript = fileURLToPath(new URL('../scripts/pack.mjs', import.meta.url))

function run(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawnAsUser('sh', ['-c', 'cd "$0" && exec "$@"', cwd, file, ...args])
    let out = ''
    proc.stdout?.on('data', (c: Buffer) => (out += c.toString()))
    proc.stderr?.on('data', (c: Buffer) => (out += c.toString()))
    proc.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} ${args.join(' ')}: ${out}`))))
  })
}

t.test('the packed SDK installs alone and calls a function', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'osiris-sdk-fresh-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const tarball = (await run(process.execPath, [packScript, work], work)).trim().split('\n').at(-1) ?? ''
  t.match(tarball, /osiris-sdk-\d+\.\d+\.\d+\.tgz$/)

  const app = join(work, 'app')
  await run('mkdir', ['-p', app], work)
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n')
  await run('npm', ['install', '--no-audit', '--no-fund', '--silent', tarball], app)
  t.ok(existsSync(join(app, 'node_modules/@osiris/sdk/dist/index.d.ts')), 'declarations installed')
  t.ok(
    existsSync(join(app, 'node_modules/@osiris/sdk/node_modules/@osiris/proto/osiris/v1/osiris.proto')),
    'proto bundled',
  )
  t.notOk(existsSync(join(app, 'node_modules/@osiris/controller')), 'no other Osiris package')

  const platform = await startPlatform(t, join(work, 'data'))
  const osiris = connect(platform.grpc)
  t.teardown(() => osiris.close())
  await osiris.deploy('export function addNumbers(a, b) { return a + b }', { module: 'math', runtime: 'js' })

  writeFileSync(
    join(app, 'main.js'),
    `import { connect, OsirisError } from '@osiris/sdk'
const osiris = connect(process.argv[2])
const sum = await osiris.callFunction('addNumbers', 3, 5)
const missing = await osiris.callFunction('nope').catch((e) => e)
console.log(JSON.stringify([sum, missing instanceof OsirisError, missing.code]))
osiris.close()
`,
  )
  const out = await run(process.execPath, ['main.js', platform.grpc], app)
  t.same(JSON.parse(out.trim()), [8, true, 'NOT_FOUND'])
})
