// A catastrophic case, run in a child process: a memory bomb inside
// Array.prototype.fill. V8's own fill does not notice termination on a huge
// holey array: it ran on for 10+ s after the memory limit and took gigabytes
// of RSS, enough to take the host down. The runtime replaces fill with an
// interruptible one; this pins that the bomb is answered with
// RESOURCE_EXHAUSTED and the host keeps serving. (Ending the process while an
// isolate's thread is stuck in such a builtin died with SIGSEGV inside
// isolated-vm's teardown; see the README in this folder.)
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'

t.test(
  "a memory bomb in Array.prototype.fill (V8's own does not stop): answered, host serves, clean exit",
  async (t) => {
    const child = spawn(
      process.execPath,
      [
        '--no-node-snapshot',
        '--conditions=osiris-source',
        fileURLToPath(new URL('./stuck-builtin-child.ts', import.meta.url)),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    )
    t.same(
      out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
      [{ step: 'bomb', code: 'RESOURCE_EXHAUSTED' }, { step: 'ok', result: '"ok"' }, { step: 'closed' }],
      err,
    )
    t.equal(signal, null, 'no crash')
    t.equal(code, 0)
  },
)
