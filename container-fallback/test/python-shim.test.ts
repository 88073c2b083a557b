// The Python shim itself (shims/python/osiris_shim.py), run by this machine's
// python3 against the host's real end of the protocol (ShimChannel), without
// a container: printed lines stream to the host as they are printed (so a
// process that dies keeps them), an uncaught exception's traceback is a log
// line, and results JSON would lose are refused naming the value and its place.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { ChannelClosed, ShimChannel } from '../src/shim-channel.ts'

const SHIM = fileURLToPath(new URL('../src/shims/python/osiris_shim.py', import.meta.url))

const MODULE = `
import logging, os, sys

def chatty(n):
    for i in range(n):
        print("line", i)
    print("to stderr", file=sys.stderr)
    logging.warning("through logging")
    return n

def dies():
    print("before the exit", flush=True)
    os._exit(3)

def fails(x):
    raise ValueError("bad value %r" % (x,))

def value(which):
    return {
        "set": lambda: {"tags": {1, 2}},
        "bytes": lambda: [b"raw"],
        "nan": lambda: {"a": {"b": float("nan")}},
        "inf": lambda: [float("-inf")],
        "key": lambda: {(1, 2): "tuple key"},
        "clash": lambda: {1: "a", "1": "b"},
        "object": lambda: {"o": object()},
        "function": lambda: {"f": len},
        "cycle": cycle,
        "tuple": lambda: (1, "two", {"three": 3, 4: "four"}),
        "utf8": lambda: "caf\\u00e9 \\u2603",
        "deep": lambda: deep(200),
    }[which]()

def cycle():
    a = []
    a.append(a)
    return a

def deep(n):
    v = 0
    for _ in range(n):
        v = [v]
    return v
`

interface Shim {
  channel: ShimChannel
  process: ChildProcess
  logs: unknown[]
  call(fn: string, args?: unknown[]): Promise<Record<string, unknown>>
}

async function shim(t: Test): Promise<Shim> {
  const dir = mkdtempSync(join(tmpdir(), 'osiris-pyshim-'))
  const channel = await ShimChannel.listen(dir)
  const child = spawn('python3', [SHIM], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OSIRIS_SOCKET: channel.path, OSIRIS_SHIM_TOKEN: 'token' },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
    channel.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const hello = await channel.hello(AbortSignal.timeout(10_000))
  t.equal(hello.hello, 'python')
  const logs: unknown[] = []
  const loaded = await channel.request({ op: 'load', module: 'tools', filename: 'tools.py', code: MODULE }, (e) =>
    logs.push(e),
  )
  t.same(loaded, { loaded: true })
  return {
    channel,
    process: child,
    logs,
    call: (fn, args = []) =>
      channel.request({ op: 'call', fn, args: args.map((a) => JSON.stringify(a)), cpuMs: 10_000 }, (entry) =>
        logs.push(entry),
      ),
  }
}

t.test('printed lines reach the host as they are printed, stdout as info and stderr as error', async (t) => {
  const s = await shim(t)
  const answer = await s.call('chatty', [2])
  t.same(answer, { result: '2', logs: [] })
  t.same(s.logs, [
    { level: 'info', line: 'line 0' },
    { level: 'info', line: 'line 1' },
    { level: 'error', line: 'to stderr' },
    { level: 'error', line: 'WARNING:root:through logging' },
  ])
})

t.test('a line printed before the process dies is kept', async (t) => {
  const s = await shim(t)
  await t.rejects(s.call('dies'), ChannelClosed)
  t.same(s.logs, [{ level: 'info', line: 'before the exit' }])
})

t.test("an uncaught exception's traceback is logged at level error", async (t) => {
  const s = await shim(t)
  const answer = await s.call('fails', [7])
  const error = answer.error as { name: string; message: string; stack: string }
  t.equal(error.name, 'ValueError')
  t.equal(error.message, 'bad value 7')
  t.equal(s.logs.length, 1)
  const entry = s.logs[0] as { level: string; line: string }
  t.equal(entry.level, 'error')
  t.equal(entry.line, error.stack)
  t.equal(
    entry.line,
    'Traceback (most recent call last):\n  File "tools.py", line 16, in fails\nValueError: bad value 7',
  )
})

t.test('results JSON would lose are refused naming the value and its place', async (t) => {
  const s = await shim(t)
  const refused: Record<string, string> = {
    set: 'result["tags"] is a set (JSON has no set: convert it, e.g. sorted(s) or list(s))',
    bytes: 'result[0] is bytes (JSON has no binary data: decode it, or base64-encode it)',
    nan: 'result["a"]["b"] is NaN (JSON has no NaN or Infinity)',
    inf: 'result[0] is -Infinity (JSON has no NaN or Infinity)',
    key: 'result is a dict with a tuple key (1, 2) (JSON keys are strings)',
    clash: "result is a dict with both 1 and '1' as keys (the same in JSON)",
    object: 'result["o"] is an object object (JSON carries dicts, lists, str, int, float, bool and None)',
    function: 'result["f"] is a function',
    cycle: 'result[0] is a circular reference to a list that contains it',
    deep: 'result is nested deeper than 128 levels',
  }
  for (const [which, why] of Object.entries(refused)) {
    t.same(await s.call('value', [which]), { notJson: why, logs: [] }, which)
  }
  t.same(await s.call('value', ['tuple']), { result: '[1,"two",{"three":3,"4":"four"}]', logs: [] }, 'tuples as lists')
  t.same(await s.call('value', ['utf8']), { result: '"café ☃"', logs: [] }, 'UTF-8 as is, not \\u escapes')
})
