// /metrics on the controller's HTTP port exposes the osiris_ series, and they
// move when calls are made; calls report where their time went.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@osiris/sdk'
import t from 'tap'
import { startPlatform } from './helpers/platform.ts'

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
  const first = await osiris.call('m', [1])
  t.equal(first.coldStart, true)
  t.ok(first.totalUs >= first.hostDurationUs, 'total covers the host time')
  t.equal(first.queuedUs, 0, 'nothing queued')
  await osiris.callFunction('m', 2)
  await osiris.callFunction('m', 3)
  await osiris.callFunction('nobody').catch(() => undefined)
  await osiris.call('stuck', [], { timeoutMs: 200 }).catch(() => undefined)

  const after = await scrape()
  t.equal(value(after, 'osiris_calls_total{function="m",outcome="OK"}'), 3)
  t.equal(value(after, 'osiris_calls_total{function="(unknown)",outcome="NOT_FOUND"}'), 1)
  t.equal(value(after, 'osiris_cold_starts_total{function="m"}'), 1)
  t.equal(value(after, 'osiris_call_duration_seconds_count{function="m"}'), 3)
  t.ok(value(after, 'osiris_limit_breaches_total{kind="time"}') >= 1, 'the timed-out call counts as a breach')
  t.ok(value(after, 'osiris_warm_instances{host="' + first.hostId + '"}') >= 1, 'warm instances reported per host')
})
