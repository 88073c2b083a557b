// An isolate worker process's loop (worker-main.ts starts it): the IsolateExecutor (warm pool, instances,
// limits, validation) run for the host over the IPC channel it was spawned
// with (protocol.ts). Tenant code runs here, never in the host: a fatal V8
// error or a stuck builtin ends this process, and the host answers for it.
// Code comes from the host (with the first invoke of a version, or asked for
// by hash); console lines go back to it; so do fetches (remote-fetch.ts).
import { OsirisError } from '@osiris/proto'
import { CodeCache } from '../code-cache.ts'
import type { InvokeParams } from '../executor.ts'
import { IsolateExecutor } from '../isolate-executor.ts'
import type { FromWorker, ToWorker } from './protocol.ts'
import { deliverFetched } from './remote-fetch.ts'
import { TypeStripper } from './stripper.ts'
import { fromWire, toWire } from './wire-error.ts'

/** What the host passes in OSIRIS_WORKER (JSON). */
export interface WorkerConfig {
  poolTarget: number
  memoryLimitMb: number
  maxInstances: number
  loadTimeoutMs: number
  idleTtlMs: number
}

const config = JSON.parse(process.env.OSIRIS_WORKER ?? '{}') as WorkerConfig
delete process.env.OSIRIS_WORKER

const send = (message: FromWorker): void => {
  if (process.connected) process.send?.(message)
}

const codeRequests = new Map<number, { resolve: (code: string) => void; reject: (error: Error) => void }>()
let codeIds = 0
const codeCache = new CodeCache(
  (hash, signal) =>
    new Promise<string>((resolve, reject) => {
      const id = ++codeIds
      codeRequests.set(id, { resolve, reject })
      signal.addEventListener('abort', () => {
        codeRequests.delete(id)
        reject(new OsirisError('CANCELLED', 'code request abandoned'))
      })
      send({ t: 'code', id, hash })
    }),
  64 << 20,
)

/** How often at most the worker reports its pool and instances, ms. */
const STATUS_EVERY_MS = 5
let statusQueued = false
let lastStatus = ''
/**
 * Pool and instance counts, sent only when they changed: a warm call changes
 * only which instances are busy, which the host counts itself.
 */
function sendStatus(): void {
  statusQueued = false
  const { poolReady, poolTarget, instances } = executor.status()
  const counts = instances.map((i) => ({ module: i.module, version: i.version, busy: 0, idle: i.busy + i.idle }))
  const text = JSON.stringify([poolReady, poolTarget, counts])
  if (text === lastStatus) return
  lastStatus = text
  send({ t: 'status', poolReady, poolTarget, instances: counts })
}
const executor = new IsolateExecutor({
  ...config,
  codeCache,
  onLog: (entry) => send({ t: 'log', entry }),
  onChange: () => {
    if (statusQueued) return
    statusQueued = true
    setTimeout(sendStatus, STATUS_EVERY_MS)
  },
})
const stripper = new TypeStripper()
const calls = new Map<number, AbortController>()

async function invoke(id: number, params: InvokeParams): Promise<void> {
  const abort = new AbortController()
  calls.set(id, abort)
  try {
    const r = await executor.invoke({ ...params, signal: abort.signal })
    send({
      t: 'result',
      id,
      result: r.result,
      coldStart: r.coldStart,
      codeFetchUs: r.codeFetchUs,
      startUs: r.startUs,
      executionUs: r.executionUs,
    })
  } catch (error) {
    send({ t: 'failed', id, error: toWire(error) })
  } finally {
    calls.delete(id)
  }
}

async function validate(id: number, runtime: string, source: string, filename: string): Promise<void> {
  try {
    // TypeScript is stripped by the disposable stripper; the rest is the executor's own validation.
    const javascript = runtime === 'ts' ? await stripper.strip(source, filename) : source
    const response =
      runtime === 'ts'
        ? await executor.validate('ts', source, filename, javascript)
        : await executor.validate(runtime, source, filename)
    send({ t: 'validated', id, response })
  } catch (error) {
    send({ t: 'failed', id, error: toWire(error) })
  }
}

process.on('message', (message: ToWorker) => {
  switch (message.t) {
    case 'invoke':
      if (message.code !== undefined) codeCache.put(message.code)
      void invoke(message.id, message.params)
      break
    case 'abort':
      calls.get(message.id)?.abort(new OsirisError('CANCELLED', 'the caller has gone'))
      break
    case 'validate':
      void validate(message.id, message.runtime, message.source, message.filename)
      break
    case 'evict':
      executor.evict(message.module, message.beforeVersion)
      break
    case 'code': {
      const request = codeRequests.get(message.id)
      codeRequests.delete(message.id)
      if (message.code !== undefined) request?.resolve(message.code)
      else request?.reject(message.error ? fromWire(message.error) : new Error('no code'))
      break
    }
    case 'fetched':
      deliverFetched(message.session, message.id, message.part, message.ack)
      break
    case 'close':
      void (async () => {
        await Promise.all([executor.close(message.graceMs), stripper.close()])
        send({ t: 'closed' })
        process.disconnect()
      })()
      break
  }
})

// The host is gone (or let go of this worker): nothing here may outlive it.
process.on('disconnect', () => process.exit(0))

// Ready to take calls now; the warm pool fills meanwhile (a call before then makes its isolate on the spot).
send({ t: 'ready', pid: process.pid })
