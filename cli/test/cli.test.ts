// The `osiris` command's client verbs against a running platform: the
// README's quickstart exactly, error output and exit codes, and help text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { runCli, spawnOsiris, startPlatform, stopOnTeardown } from './helpers/platform.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-cli-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const platform = await startPlatform(t, join(dir, 'data'))
const env = { OSIRIS_ADDR: platform.grpc }

const mathTs = join(dir, 'math.ts')
writeFileSync(
  mathTs,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's own template literal
  'export function addNumbers(a: number, b: number): number { return a + b }\nexport async function greet(name: string) { return `hello ${name}` }\n',
)

t.test('the quickstart: deploy, call, ls, rm', async (t) => {
  const deployed = await runCli(['deploy', mathTs], env)
  t.equal(deployed.code, 0, deployed.stderr)
  t.match(deployed.stdout, /^deployed math v\d+ \(ts\)\n {2}addNumbers\(a, b\)\n {2}greet\(name\)\n$/)

  const sum = await runCli(['call', 'addNumbers', '3', '5'], env)
  t.equal(sum.code, 0, sum.stderr)
  t.equal(sum.stdout, '8\n')
  t.equal((await runCli(['call', 'greet', '"ada"'], env)).stdout, '"hello ada"\n')
  t.equal((await runCli(['call', 'greet', 'ada'], env)).stdout, '"hello ada"\n', 'non-JSON argument taken as a string')

  const ls = await runCli(['ls'], env)
  t.equal(ls.code, 0)
  const lines = ls.stdout.trimEnd().split('\n')
  t.match(lines[0], /^NAME\s+RUNTIME\s+VERSION\s+PARAMETERS\s+DEPLOYED$/)
  t.match(lines[1], /^addNumbers\s+ts\s+v\d+\s+\(a, b\)\s+\d{4}-\d\d-\d\dT/)
  t.match(lines[2], /^greet\s+ts\s+v\d+\s+\(name\)\s+/)

  const rm = await runCli(['rm', 'addNumbers'], env)
  t.equal(rm.code, 0)
  t.match(rm.stdout, /^removed addNumbers \(module math, v\d+\)\n$/)
  const gone = await runCli(['call', 'addNumbers', '3', '5'], env)
  t.equal(gone.code, 1)
  t.equal(gone.stdout, '')
  t.equal(gone.stderr, 'error NOT_FOUND: function "addNumbers" is not deployed\n')
})

t.test('--addr overrides OSIRIS_ADDR', async (t) => {
  const res = await runCli(['call', 'greet', 'x', '--addr', platform.grpc], { OSIRIS_ADDR: '127.0.0.1:1' })
  t.equal(res.stdout, '"hello x"\n')
})

t.test('failures print `error CODE: message` and exit non-zero', async (t) => {
  const arity = await runCli(['call', 'greet'], env)
  t.equal(arity.code, 1)
  t.equal(arity.stderr, 'error INVALID_ARGUMENT: function "greet" takes 1 argument, got 0\n')

  const broken = join(dir, 'broken.js')
  writeFileSync(broken, 'export function f( {\n')
  const compile = await runCli(['deploy', broken], env)
  t.equal(compile.code, 1)
  t.match(compile.stderr, /^error COMPILE_ERROR: broken\.js does not compile: .*\(line \d+, column \d+\)\n$/)

  const thrower = join(dir, 'thrower.js')
  writeFileSync(thrower, 'export function boom() {\n  throw new Error("kaboom")\n}\n')
  t.equal((await runCli(['deploy', thrower], env)).code, 0)
  const boom = await runCli(['call', 'boom'], env)
  t.equal(boom.code, 1)
  t.match(
    boom.stderr,
    /^error FUNCTION_ERROR: function "boom" threw Error: kaboom\nError: kaboom\n {4}at boom \(thrower\.js:2:9\)/,
  )

  const unreachable = await runCli(['ls', '--addr', '127.0.0.1:1'], {})
  t.equal(unreachable.code, 1)
  t.match(
    unreachable.stderr,
    /^error UNAVAILABLE: controller 127\.0\.0\.1:1: not reachable within \d+ ms; the request was not sent\nstarted: never \(it did not run; safe to send again\)\n$/,
  )

  const missing = await runCli(['deploy', join(dir, 'nope.ts')], env)
  t.equal(missing.code, 2)
  t.match(missing.stderr, /^error USAGE: cannot read .*nope\.ts: ENOENT/)
  const ext = await runCli(['deploy', join(dir, 'file.rb')], env)
  t.match(ext.stderr, /cannot tell the runtime of ".*file\.rb" from its extension; pass --runtime/)

  const verb = await runCli(['frobnicate'], env)
  t.equal(verb.code, 2)
  t.match(verb.stderr, /^error USAGE: unknown verb "frobnicate"/)
  const flag = await runCli(['ls', '--bogus'], env)
  t.equal(flag.code, 2)
  t.match(flag.stderr, /^error USAGE: Unknown option '--bogus'/)
})

t.test('help for the command and every verb', async (t) => {
  const top = await runCli(['--help'])
  t.equal(top.code, 0)
  for (const verb of ['start', 'controller', 'host', 'deploy', 'call', 'ls', 'rm']) {
    t.match(top.stdout, new RegExp(`^ {2}${verb}\\b`, 'm'), `top-level help lists ${verb}`)
    const help = await runCli([verb, '--help'])
    t.equal(help.code, 0)
    t.match(help.stdout, new RegExp(`^Usage: osiris ${verb}`), `${verb} --help`)
  }
})

t.test('the bin re-runs itself with the flags isolated-vm needs when started without them', async (t) => {
  const res = await runCli(['call', 'greet', 'bare'], env, [])
  t.equal(res.code, 0, res.stderr)
  t.equal(res.stdout, '"hello bare"\n')
})

t.test('OSIRIS_LOG_FORMAT=json makes the servers log one JSON object per line', async (t) => {
  const controller = spawnOsiris(
    ['controller', ...['--port', '0', '--http-port', '0', '--data-dir', join(dir, 'json-logs')]],
    { OSIRIS_LOG_FORMAT: 'json' },
  )
  stopOnTeardown(t, controller)
  const first = await new Promise<string>((resolve) =>
    createInterface({ input: controller.stdout! }).once('line', resolve),
  )
  const entry = JSON.parse(first) as Record<string, unknown>
  t.equal(entry.level, 'info')
  t.match(entry.msg, /^controller listening on 127\.0\.0\.1:\d+ \(gRPC\)/)
  t.match(entry.grpc, /^127\.0\.0\.1:\d+$/)
  t.match(entry.time, /^\d{4}-\d\d-\d\dT/)
})
