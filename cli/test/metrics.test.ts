// /metrics on the controller's HTTP port exposes the osiris_ series, and they
// move when calls are made; calls report where their time went.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { connect } from '@osiris/sdk'
import t from 'tap'
import { spawnOsiris, startPlatform, stopOnTeardown } from './helpers/platform.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-metrics-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const platform = await startPlatform(t, join(dir, 'data'))
const osiris = connect(platform.grpc)
t.teardown(() => osiris.close())

async function scrape(): Promise<string> {
  const res = await fetch(`http://${platform.http}/metrics`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain/)
  return res.text()
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : 0
}

t.test('the series exist and move with calls', async (t) => {
  const before = await scrape()
  for (const name of [
    'osiris_calls_total',
    'osiris_call_duration_seconds',
    'osiris_cold_starts_total',
    'osiris_cold_start_duration_seconds',
    'osiris_queue_depth',
    'osiris_queue_wait_seconds',
    'osiris_hosts',
    'osiris_pool_ready',
    'osiris_pool_target',
    'osiris_warm_instances',
    'osiris_limit_breaches_total',
  ]) {
    t.match(before, new RegExp(`^# TYPE ${name} `, 'm'), name)
  }
  t.equal(value(before, 'osiris_hosts{state="ready"}'), 1)

  await osiris.deploy('export function m(x) { return x }\nexport function stuck() { return new Promise(() => {}) }', {
    module: 'metered',
    runtime: 'js',
  })
  // First: stopping it at the caller's deadline disposes the module's instance, which m's calls then make again.
  await osiris.call('stuck', [], { timeoutMs: 200 }).catch(() => undefined)
  const first = await osiris.call('m', [1])
  t.equal(first.coldStart, true)
  t.ok(first.totalUs >= first.hostDurationUs, 'total covers the host time')
  t.equal(first.queuedUs, 0, 'nothing queued')
  await osiris.callFunction('m', 2)
  await osiris.callFunction('m', 3)
  await osiris.callFunction('nobody').catch(() => undefined)

  const after = await scrape()
  t.equal(value(after, 'osiris_calls_total{function="m",outcome="OK"}'), 3)
  t.equal(value(after, 'osiris_calls_total{function="(unknown)",outcome="NOT_FOUND"}'), 1)
  t.equal(value(after, 'osiris_cold_starts_total{function="m"}'), 1)
  t.equal(value(after, 'osiris_call_duration_seconds_count{function="m"}'), 3)
  // The caller's deadline is not the function's limit: no breach (the next test counts real ones).
  t.equal(value(after, 'osiris_limit_breaches_total{kind="time"}'), 0, "a call past its caller's deadline is no breach")
  t.ok(value(after, `osiris_warm_instances{host="${first.hostId}"}`) >= 1, 'warm instances reported per host')
})

t.test('limit breaches are counted by kind, and only a function limit is one', async (t) => {
  await osiris.deploy(
    'export function wait() { return new Promise(() => {}) }\nexport function spin() { for (;;) {} }\nexport function echo(x) { return x }',
    { module: 'capped', runtime: 'js', limits: { timeoutMs: 300, cpuMs: 50 } },
  )
  await osiris.callFunction('echo', 0)
  const before = await scrape()
  const breaches = (text: string, kind: string): number => value(text, `osiris_limit_breaches_total{kind="${kind}"}`)
  t.match(await osiris.callFunction('wait').catch((e: unknown) => e), { code: 'DEADLINE_EXCEEDED' })
  t.match(await osiris.callFunction('spin').catch((e: unknown) => e), {
    code: 'DEADLINE_EXCEEDED',
    message: 'function "spin" used more than 50 ms of CPU time',
  })
  const huge = 'x'.repeat(2 * 1024 * 1024)
  t.match(await osiris.callFunction('echo', huge).catch((e: unknown) => e), { code: 'PAYLOAD_TOO_LARGE' })
  const after = await scrape()
  t.equal(breaches(after, 'time') - breaches(before, 'time'), 1, 'the function past its wall-clock limit')
  t.equal(breaches(after, 'cpu') - breaches(before, 'cpu'), 1, 'the function past its CPU limit')
  t.equal(breaches(after, 'result') - breaches(before, 'result'), 0, 'oversized arguments are not a result breach')
})

t.test('a host serves its own metrics with osiris host --metrics', async (t) => {
  const host = spawnOsiris([
    'host',
    ...['--controller', platform.grpc, '--metrics', '127.0.0.1:0', '--id', 'metered-host', '--pool', '2'],
  ])
  stopOnTeardown(t, host)
  const lines = createInterface({ input: host.stdout! })
  const address = await new Promise<string>((resolve) =>
    lines.on('line', (line) => {
      const m = /^host metered-host metrics at http:\/\/(\S+)\/metrics$/.exec(line)
      if (m?.[1]) resolve(m[1])
    }),
  )
  const text = await (await fetch(`http://${address}/metrics`)).text()
  for (const name of [
    'osiris_host_invocations_total',
    'osiris_host_invocation_duration_seconds',
    'osiris_host_limit_breaches_total',
    'osiris_host_pool_ready',
    'osiris_host_pool_target',
    'osiris_host_in_flight',
    'osiris_host_warm_instances',
  ]) {
    t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name)
  }
  t.ok(value(text, 'osiris_host_pool_target') >= 2, 'the isolate pool target (and any container pools) counted')
  const other = await fetch(`http://${address}/other`)
  t.equal(other.status, 404)
  await other.arrayBuffer()
})
