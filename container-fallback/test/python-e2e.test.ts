// Python end to end over real processes: `osiris start` (controller + host
// child driving the real engine), deploy from a .py file with the CLI, calls
// from the CLI, the SDK and the HTTP gateway; errors with their exact codes;
// and a platform without containers, which has no host for python.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, FunctionError, type OsirisError } from '@osiris/sdk'
import t from 'tap'
import { runCli, startPlatform } from '../../cli/test/helpers/platform.ts'
import { LABEL_OWNER_PID } from '../src/container.ts'
import { containersLabelled, engine, pythonImage } from './helpers/engine.ts'

const MATH_PY = `def add_numbers(a, b):
    return a + b
`

const TOOLS_PY = `import asyncio

def shape(items, meta):
    return {"count": len(items), "items": items, "meta": meta}

async def later(name):
    await asyncio.sleep(0)
    return "hello " + name

def explode(message):
    raise KeyError(message)

def _private():
    return "hidden"

def chatty(n):
    for i in range(n):
        print("line", i)
    return n

def not_json():
    return float("nan")
`

const LATE_PY = `import time

def late():
    print("before the deadline", flush=True)
    time.sleep(60)
`

const EDGES_PY = `raise RuntimeError("configuration missing")

def never_loads():
    return 1
`

const dir = mkdtempSync(join(tmpdir(), 'osiris-py-e2e-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(join(dir, 'math.py'), MATH_PY)
writeFileSync(join(dir, 'tools.py'), TOOLS_PY)
writeFileSync(join(dir, 'edges.py'), EDGES_PY)
writeFileSync(join(dir, 'late.py'), LATE_PY)
writeFileSync(join(dir, 'empty.py'), 'X = 1\n\ndef _hidden():\n    return X\n')
writeFileSync(join(dir, 'broken.py'), 'def fine():\n    return 1\n\ndef broken(:\n    pass\n')

const docker = await engine(t)
await pythonImage(docker)

t.test('with a container engine', async (t) => {
  const platform = await startPlatform(t, join(dir, 'data'), ['--container-pool', '1'])
  const env = { OSIRIS_ADDR: platform.grpc }
  const osiris = connect(platform.grpc)
  t.teardown(() => osiris.close())

  t.test('deploy math.py with the CLI registers add_numbers(a, b) as python', async (t) => {
    const deployed = await runCli(['deploy', join(dir, 'math.py')], env)
    t.equal(deployed.code, 0, deployed.stderr)
    t.match(deployed.stdout, /deployed math v1 \(python\)\n {2}add_numbers\(a, b\)/)
  })

  t.test('add_numbers(3, 5) is 8 from the CLI, the SDK and HTTP', async (t) => {
    const cli = await runCli(['call', 'add_numbers', '3', '5'], env)
    t.equal(cli.code, 0, cli.stderr)
    t.equal(cli.stdout.trim(), '8')
    t.equal(await osiris.callFunction('add_numbers', 3, 5), 8)
    const response = await fetch(`http://${platform.http}/v1/call/add_numbers`, { method: 'POST', body: '[3, 5]' })
    t.equal(response.status, 200)
    t.equal(await response.text(), '8')
  })

  t.test('lists and dicts round-trip; async def is awaited; private functions are not registered', async (t) => {
    const deployed = await runCli(['deploy', join(dir, 'tools.py')], env)
    t.equal(deployed.code, 0, deployed.stderr)
    t.notMatch(deployed.stdout, /_private/)
    const items = [1, 'two', { three: [3] }, null]
    t.same(await osiris.callFunction('shape', items, { ok: true, n: 1.5 }), {
      count: 4,
      items,
      meta: { ok: true, n: 1.5 },
    })
    t.equal(await osiris.callFunction('later', 'ada'), 'hello ada')
    const missing = await osiris.callFunction('_private').catch((e: unknown) => e)
    t.equal((missing as OsirisError).code, 'NOT_FOUND')
  })

  t.test('a Python exception is FUNCTION_ERROR (UNKNOWN) with its type, message and traceback', async (t) => {
    const error = await osiris.callFunction('explode', 'boom').catch((e: unknown) => e)
    t.ok(error instanceof FunctionError, String(error))
    const fe = error as FunctionError
    t.equal(fe.code, 'FUNCTION_ERROR')
    t.equal(fe.guest.name, 'KeyError')
    t.equal(fe.guest.message, "'boom'")
    t.match(fe.guest.stack, /Traceback \(most recent call last\):\n {2}File "tools\.py", line 11, in explode\n/)
    const cli = await runCli(['call', 'explode', '"boom"'], env)
    t.equal(cli.code, 1)
    t.match(cli.stderr, /^error FUNCTION_ERROR: function "explode" raised KeyError: 'boom'\nTraceback/)
    const http = await fetch(`http://${platform.http}/v1/call/explode`, { method: 'POST', body: '["boom"]' })
    t.equal(http.status, 500)
    t.equal(await osiris.callFunction('add_numbers', 1, 1), 2, 'the platform keeps serving')
  })

  t.test('wrong arity is INVALID_ARGUMENT', async (t) => {
    const error = await osiris.callFunction('add_numbers', 1).catch((e: unknown) => e)
    t.equal((error as OsirisError).code, 'INVALID_ARGUMENT')
    t.equal((error as OsirisError).message, 'function "add_numbers" takes 2 arguments, got 1')
  })

  t.test('a syntax error at deploy is COMPILE_ERROR (INVALID_ARGUMENT) with its line', async (t) => {
    const cli = await runCli(['deploy', join(dir, 'broken.py')], env)
    t.equal(cli.code, 1)
    t.match(cli.stderr, /^error COMPILE_ERROR: broken\.py does not compile: SyntaxError: .* \(line 4, column \d+\)/)
    const error = await osiris.get('fine').catch((e: unknown) => e)
    t.equal((error as OsirisError).code, 'NOT_FOUND', 'nothing of the broken module was registered')
  })

  t.test('print output is the function log; a NaN result is RESULT_NOT_JSON', async (t) => {
    t.equal(await osiris.callFunction('chatty', 2), 2)
    const logs = await runCli(['logs', 'chatty'], env)
    t.equal(logs.code, 0, logs.stderr)
    t.match(logs.stdout, /info {2}v\d+ \S+ line 0\n.*info {2}v\d+ \S+ line 1\n/s)
    const error = await osiris.callFunction('not_json').catch((e: unknown) => e)
    t.equal((error as OsirisError).code, 'RESULT_NOT_JSON')
    t.equal(
      (error as OsirisError).message,
      'function "not_json" returned a value that cannot be encoded as JSON: result is NaN (JSON has no NaN or Infinity)',
    )
  })

  t.test(
    'a module whose top level raises deploys (it is only parsed), and its first call is FUNCTION_ERROR',
    async (t) => {
      const deployed = await runCli(['deploy', join(dir, 'edges.py')], env)
      t.equal(deployed.code, 0, deployed.stderr)
      const error = await osiris.callFunction('never_loads').catch((e: unknown) => e)
      t.ok(error instanceof FunctionError, String(error))
      t.equal((error as FunctionError).guest.name, 'RuntimeError')
      t.match(
        (error as FunctionError).message,
        /module "edges" v\d+ raised RuntimeError while loading: configuration missing/,
      )
    },
  )

  t.test('a line printed before a run-over reaches osiris logs; the limit is reported as set', async (t) => {
    const deployed = await runCli(['deploy', join(dir, 'late.py'), '--timeout', '2s'], env)
    t.equal(deployed.code, 0, deployed.stderr)
    const cli = await runCli(['call', 'late'], env)
    t.equal(cli.code, 1)
    t.equal(
      cli.stderr,
      'error DEADLINE_EXCEEDED: function "late" ran past its 2000 ms limit; its container was killed\n',
    )
    const logs = await runCli(['logs', 'late'], env)
    t.match(logs.stdout, /info {2}v\d+ \S+ before the deadline\n/)
    const raised = await runCli(['logs', 'explode'], env)
    t.match(
      raised.stdout,
      /error v\d+ \S+ Traceback \(most recent call last\):\n/,
      'the traceback of a raise is logged',
    )
  })

  t.test('a module with no public functions is INVALID_ARGUMENT', async (t) => {
    const cli = await runCli(['deploy', join(dir, 'empty.py')], env)
    t.equal(cli.code, 1)
    t.match(cli.stderr, /^error INVALID_ARGUMENT: empty\.py defines no public top-level functions to deploy/)
  })

  t.test('the host lists python among its runtimes', async (t) => {
    const hosts = await runCli(['hosts'], env)
    t.match(hosts.stdout, /js,ts,python,exec/)
  })

  t.test('stopping the platform leaves no container of its host', async (t) => {
    const pid = platform.hostPid()
    await platform.stop('SIGINT')
    t.same(await containersLabelled(docker, `${LABEL_OWNER_PID}=${pid}`), [])
  })
})

t.test('without containers no host offers python: deploy and call are UNAVAILABLE saying so', async (t) => {
  const platform = await startPlatform(t, join(dir, 'data-plain'), ['--no-containers'])
  const env = { OSIRIS_ADDR: platform.grpc }
  const cli = await runCli(['deploy', join(dir, 'math.py')], env)
  t.equal(cli.code, 1)
  t.match(cli.stderr, /^error UNAVAILABLE: no host can run runtime "python": none of the 1 connected hosts offers it/)
  const call = await runCli(['call', 'add_numbers', '3', '5'], env)
  t.equal(call.code, 1)
  t.match(call.stderr, /^error NOT_FOUND: .*add_numbers/, 'nothing was deployed')
  const js = await runCli(['hosts'], env)
  t.match(js.stdout, / js,ts /, 'the host offers only js and ts')
})

t.test('$DOCKER_HOST is honoured: an engine that does not answer there means no python', async (t) => {
  const socket = join(dir, 'no-engine.sock')
  const platform = await startPlatform(t, join(dir, 'data-nodocker'), [], { DOCKER_HOST: `unix://${socket}` })
  await platform.waitFor(new RegExp(`container runtimes off: no container engine answers at ${socket}`))
  const cli = await runCli(['deploy', join(dir, 'math.py')], { OSIRIS_ADDR: platform.grpc })
  t.equal(cli.code, 1)
  t.match(cli.stderr, /^error UNAVAILABLE: no host can run runtime "python"/)
})
