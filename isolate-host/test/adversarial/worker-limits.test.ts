// Limits that stop the work, and shared tools that a tenant cannot break for
// others, on the worker path (worker/). Each asserts the host (this process)
// is unchanged and a neighbour function in another worker never failed.
import t from 'tap'
import { failure, until, workerHarness } from './worker-harness.ts'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test(
  'lastIndexOf on a 2^32-1 array (V8 does not interrupt it): answered for CPU, its worker ended within 1 s',
  async (t) => {
    const h = await workerHarness(t)
    const hostPid = process.pid
    const neighbour = await h.neighbour()
    const stuck = await h.deploy(
      'export function scan() { const a = []; a.length = 2 ** 32 - 1; return a.lastIndexOf(1) }\nexport function ok() { return 1 }',
      'stuck-scan',
    )
    await stuck.call('ok')
    const worker = h.executor.workerOf('stuck-scan')
    t.not(worker, h.executor.workerOf('neighbour'), 'the neighbour is in another worker')
    if (!worker?.pid) return
    const { pid, generation } = worker
    const error = await failure(stuck.call('scan', { limits: { cpuMs: 500 } }))
    const answered = performance.now()
    t.equal(error.code, 'DEADLINE_EXCEEDED')
    t.equal(error.message, 'function "scan" used more than 500 ms of CPU time')
    // The thread V8 cannot stop goes with its process: polled, with 1 s as the bound.
    t.ok(await until(() => !alive(pid), 1000), 'the process running the stuck builtin is gone within 1 s of the answer')
    t.comment(`worker process gone ${(performance.now() - answered).toFixed(0)} ms after the answer`)
    t.ok(await until(() => worker.generation === generation + 1 && worker.state === 'ready', 60_000), 'replaced')
    t.equal((await stuck.call('ok')).result, '1', 'the new worker serves')
    const { ok, failures } = await neighbour.stop()
    t.same(failures, [])
    t.ok(ok > 0)
    t.equal(process.pid, hostPid)
  },
)

t.test('an interruptible endless loop answered for its timeout: the worker stays (no kill needed)', async (t) => {
  const h = await workerHarness(t)
  const spin = await h.deploy('export function spin() { while (true) {} }', 'spin')
  await failure(spin.call('spin', { limits: { timeoutMs: 300 } })).then((error) =>
    t.equal(error.code, 'DEADLINE_EXCEEDED'),
  )
  const worker = h.executor.workerOf('spin')
  await worker?.checked()
  t.equal(worker?.generation, 1, 'the same worker process: its work stopped')
  t.equal(worker?.state, 'ready')
})

t.test(
  "the TypeScript stripper broken by nested parentheses: that deploy's COMPILE_ERROR, others' .ts deploys work",
  async (t) => {
    const h = await workerHarness(t)
    const neighbour = await h.neighbour()
    const nested = `export function deep(): number { return ${'('.repeat(1000)}1${')'.repeat(1000)} }`
    for (let i = 0; i < 2; i++) {
      const error = await failure(h.deploy(nested, `nested-${i}`, 'ts'))
      t.equal(error.code, 'COMPILE_ERROR')
      t.match(error.message, new RegExp(`^nested-${i}\\.ts does not compile: `))
      t.comment(error.message.slice(0, 200))
    }
    const other = await h.deploy(
      'export function add(a: number, b: number): number { return a + b }',
      'other-tenant',
      'ts',
    )
    t.equal((await other.call('add', { args: [2, 3] })).result, '5', "another tenant's TypeScript deploys and runs")
    const typo = await failure(h.deploy('export function f(: number { }', 'typo', 'ts'))
    t.equal(typo.code, 'COMPILE_ERROR')
    t.match(typo.message, /^typo\.ts does not compile: .*\(line 1, column \d+\)$/)
    const again = await h.deploy(
      'export function mul(a: number, b: number): number { return a * b }',
      'after-typo',
      'ts',
    )
    t.equal((await again.call('mul', { args: [2, 3] })).result, '6')
    const { failures } = await neighbour.stop()
    t.same(failures, [])
  },
)
