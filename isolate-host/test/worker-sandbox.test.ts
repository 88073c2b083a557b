// What an isolate worker process gets (worker/sandbox.ts): as root, the user
// nobody with no supplementary groups and no way to gain privileges, a network
// namespace of its own, a cgroup memory cap, and none of the host's
// environment; without root, the host says what it could not do, once.
import { readFileSync, readlinkSync } from 'node:fs'
import t from 'tap'
import { WorkerExecutor } from '../src/worker/worker-executor.ts'

function start(t: { teardown(fn: () => unknown): void }, warn: (line: string) => void): WorkerExecutor {
  const executor = new WorkerExecutor({
    workers: 1,
    poolTarget: 1,
    memoryLimitMb: 64,
    maxInstances: 8,
    loadTimeoutMs: 1000,
    workerMemoryMb: 768,
    code: async (hash) => {
      throw new Error(`no code ${hash}`)
    },
    keepCode: () => {},
    onLog: () => {},
    onChange: () => {},
    warn,
  })
  t.teardown(() => executor.close(0))
  return executor
}

t.test('a worker process runs with least privilege (as root) or the host says what it lacks', async (t) => {
  process.env.OSIRIS_SANDBOX_CANARY = 'host-secret-canary'
  t.teardown(() => {
    delete process.env.OSIRIS_SANDBOX_CANARY
  })
  const warnings: string[] = []
  const executor = start(t, (line) => warnings.push(line))
  await executor.ready()
  const pid = executor.workers[0]?.pid ?? 0
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8')
  t.notMatch(environ, /host-secret-canary/, "none of the host's environment")
  if (process.getuid?.() !== 0) {
    t.same(warnings, [
      'isolate workers: workers run as this user (switching to nobody needs root and setpriv)',
      'isolate workers: workers share the host network namespace (unshare --net needs root)',
      'isolate workers: workers have no OS memory cap (no writable cgroup memory controller)',
    ])
    return
  }
  t.same(warnings, [], 'nothing missing as root')
  t.match(status, /^Uid:\t65534\t65534\t65534\t65534$/m, 'runs as nobody')
  t.match(status, /^Gid:\t65534\t65534\t65534\t65534$/m)
  t.match(status, /^Groups:\t\s*$/m, 'no supplementary groups')
  t.match(status, /^NoNewPrivs:\t1$/m, 'cannot gain privileges')
  t.not(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync('/proc/self/ns/net'), 'a network namespace of its own')
  const group = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((line) => /:memory:/.test(line) || line.startsWith('0::'))
  const path = group?.split(':')[2] ?? ''
  const plan = executor.sandbox?.cgroup
  t.ok(plan, 'a memory group')
  if (plan) {
    const base = plan.version === 1 ? '/sys/fs/cgroup/memory' : '/sys/fs/cgroup'
    const file = plan.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'
    t.equal(readFileSync(`${base}${path}/${file}`, 'utf8').trim(), String(768 * 1024 * 1024), 'capped at 768 MiB')
  }
})
