// Where an end-to-end warm call's time goes: times, in one run, the bare
// grpc-js echo pair, the full SDK → controller → host call, and the host's own
// handling (its reported durationUs). The controller → host hop alone is no
// longer timed from here: a host answers only the controller it registered
// with (its call key), which this process is not.
//   node --no-node-snapshot --conditions=osiris-source bench/scripts/profile-hops.ts [N]
import { moduleSource } from '../src/cold/source.ts'
import { EchoPair } from '../src/e2e/echo.ts'
import { OsirisPlatform } from '../src/e2e/platform.ts'
import { sample, summarize, timed } from '../src/measure.ts'
import { stopAll } from '../src/processes.ts'

/** CPU time (user + system) a process has used so far, ms, from /proc. */
async function cpuMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises')
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? []
  return ((Number(stat[11]) + Number(stat[12])) * 1000) / 100
}

const n = Number(process.argv[2] ?? 2000)
const echo = await EchoPair.start()
const relay = await EchoPair.relay()
// PROFILE_DIR=DIR writes --cpu-prof profiles of the controller and the host there.
const profile = process.env.PROFILE_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.PROFILE_DIR}` } : {}
const osiris = await OsirisPlatform.start(['--pool', '4', ...process.argv.slice(3)], profile)
try {
  await osiris.client.deploy(moduleSource('hops'), { module: 'math', runtime: 'js' })
  const [host] = await osiris.client.hosts()
  if (!host) throw new Error('no host')
  const hostUs: number[] = []
  const echoPid = echo.servers[0]?.pid ?? 0
  const [relayPid, relayEchoPid] = relay.servers.map((c) => c.pid)
  const rows = [
    ['echo', () => echo.call(), { server: echoPid }],
    ['relay → echo (two hops)', () => relay.call(), { relay: relayPid ?? 0, echo: relayEchoPid ?? 0 }],
    [
      'sdk → controller → host',
      () => osiris.client.call('addNumbers', [3, 5]).then((r) => hostUs.push(r.hostDurationUs)),
      { controller: osiris.proc.pid, host: host.pid },
    ],
  ] as const
  for (let round = 0; round < 2; round++) {
    for (const [label, call, pids] of rows) {
      const entries = Object.entries(pids)
      const before = await Promise.all(entries.map(([, pid]) => cpuMs(pid)))
      const self = process.cpuUsage()
      const m = summarize(label, label, await sample(n, 200, () => timed(call)))
      const used = process.cpuUsage(self)
      const after = await Promise.all(entries.map(([, pid]) => cpuMs(pid)))
      const calls = n + 200
      const cpu = entries.map(
        ([name], i) => `${name} ${((((after[i] ?? 0) - (before[i] ?? 0)) * 1000) / calls).toFixed(0)}`,
      )
      cpu.push(`client ${((used.user + used.system) / calls).toFixed(0)}`)
      console.log(
        `${label.padEnd(48)} p50 ${m.p50.toFixed(3)}  p95 ${m.p95.toFixed(3)}  p99 ${m.p99.toFixed(3)} ms;  CPU µs/call: ${cpu.join(', ')}`,
      )
    }
  }
  const host50 = summarize(
    'host',
    'host',
    hostUs.map((us) => us / 1000),
  ).p50
  console.log(`${'host-side handling (reported durationUs)'.padEnd(48)} p50 ${host50.toFixed(3)} ms`)
  hostClient.close()
} finally {
  await osiris.close()
  await echo.close()
  await relay.close()
  await stopAll()
}
