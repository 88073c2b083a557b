// The dispatcher's rules in memory, on a hand-moved clock, with the host call
// injected: a call is offered to another host only when it provably never
// started; a call that may have run is answered, never re-sent; a cut-off
// call's slot stays taken until its host says the work stopped; a freshly
// started controller holds calls for a first host; arguments are checked
// before any host sees them.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type InvokeRequest, type InvokeResponse, notStarted, OsirisError } from '@osiris/proto'
import t from 'tap'
import { Dispatcher, MAX_ATTEMPTS } from '../src/dispatcher.ts'
import { FunctionRegistry } from '../src/function-registry.ts'
import type { HostInvoker } from '../src/host-invoker.ts'
import type { HostEntry } from '../src/host-registry.ts'
import { SqliteStore } from '../src/store/sqlite-store.ts'
import { addHost, hostRegistry, instances, ManualClock } from './helpers/in-memory.ts'

const dir = mkdtempSync(join(tmpdir(), 'osiris-dispatch-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const store = await SqliteStore.open(dir)
t.teardown(() => store.close())
const functions = await FunctionRegistry.load(store)
const codeHash = await store.putCode('export function add(a, b) { return a + b }')
await functions.deploy({
  module: 'math',
  runtime: 'js',
  codeHash,
  functions: [
    {
      name: 'add',
      params: [
        { name: 'a', optional: false, rest: false },
        { name: 'b', optional: true, rest: false },
      ],
    },
  ],
})
const OPTIONS = { callTimeoutMs: 30_000, maxArgumentBytes: 64, maxInstancesPerFunction: 4, maxQueuedPerFunction: 8 }

const OK: InvokeResponse = { result: '3', coldStart: false, durationUs: 1, codeFetchUs: 0, startUs: 0, executionUs: 1 }

/**
 * A dispatcher over in-memory hosts; `invoke` stands in for the gRPC hop to a
 * host, its work over when it settles (unless `manualDone`: then it calls `done`).
 */
function setup(
  t: { teardown(fn: () => unknown): void },
  invoke: HostInvoker,
  hostIds: string[] = ['h1', 'h2', 'h3'],
  startupHoldMs = 3000,
  manualDone = false,
) {
  const clock = new ManualClock()
  const hosts = hostRegistry()
  t.teardown(() => hosts.close())
  const added = hostIds.map((id) => addHost(hosts, id))
  const hop: HostInvoker = manualDone
    ? invoke
    : async (host, request, options) => {
        try {
          return await invoke(host, request, options)
        } finally {
          options.done()
        }
      }
  const dispatcher = new Dispatcher(functions, hosts, { ...OPTIONS, startupHoldMs }, { clock, invoke: hop })
  return { clock, hosts, added, dispatcher }
}

t.test('a call refused before it started goes to another host, at most MAX_ATTEMPTS hosts', async (t) => {
  const tried: string[] = []
  const { dispatcher } = setup(t, async (host: HostEntry, request: InvokeRequest) => {
    tried.push(`${host.id}:${request.callId}`)
    if (tried.length < 3) throw notStarted('CLOSED', `host "${host.id}" is shutting down; the call did not start`)
    return OK
  })
  const response = await dispatcher.call('add', ['1', '2'], { callId: 'c1' })
  t.equal(response.result, '3')
  t.equal(tried.length, 3)
  t.equal(new Set(tried.map((x) => x.split(':')[0])).size, 3, 'a different host each time')
  t.ok(
    tried.every((x) => x.endsWith(':c1')),
    'the same call id each time',
  )
  tried.length = 0
  const { dispatcher: refusing } = setup(t, async (host: HostEntry) => {
    tried.push(host.id)
    throw notStarted('UNAVAILABLE', `host "${host.id}" could not be reached; the call was not sent`)
  })
  await t.rejects(refusing.call('add', ['1']), { code: 'UNAVAILABLE', started: 'never' })
  t.equal(tried.length, MAX_ATTEMPTS, `given up after ${MAX_ATTEMPTS} hosts`)
})

t.test('a call that may have run is answered as such and never sent again', async (t) => {
  let calls = 0
  const { dispatcher } = setup(t, async (host: HostEntry) => {
    calls++
    const lost = new OsirisError('UNAVAILABLE', `host "${host.id}" was lost while the call of "add" was in flight`)
    lost.started = 'maybe'
    throw lost
  })
  await t.rejects(dispatcher.call('add', ['1']), { code: 'UNAVAILABLE', started: 'maybe' })
  t.equal(calls, 1)
  let thrown = 0
  const { dispatcher: throwing } = setup(t, async () => {
    thrown++
    throw new OsirisError('FUNCTION_ERROR', 'boom')
  })
  await t.rejects(throwing.call('add', ['1']), { code: 'FUNCTION_ERROR' })
  t.equal(thrown, 1, 'an answer from the function is not retried either')
})

t.test("a cancelled call's slot stays taken until its host says the work stopped", async (t) => {
  const stops: Array<() => void> = []
  const { dispatcher, added, hosts } = setup(
    t,
    (_host, _request, { signal, done }) =>
      new Promise<InvokeResponse>((_resolve, reject) => {
        signal?.addEventListener('abort', () => {
          // The caller hears at once; the host's work stops later.
          const cancelled = new OsirisError('CANCELLED', 'call of "add" was cancelled by its caller')
          cancelled.started = 'maybe'
          reject(cancelled)
          stops.push(done)
        })
      }),
    ['h1'],
    3000,
    true,
  )
  const fn = functions.get('add')
  const [h1] = added
  if (!h1) throw new Error('no host')
  const abort = new AbortController()
  const call = dispatcher.call('add', ['1'], { signal: abort.signal })
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(h1.entry.active.get(fn.version), 1, 'one call on h1')
  abort.abort()
  await t.rejects(call, { code: 'CANCELLED', started: 'maybe' })
  t.equal(h1.entry.active.get(fn.version), 1, 'still counted: the host has not said the work stopped')
  h1.report({ instances: [instances(fn, 0, 0)] })
  t.equal(h1.entry.active.get(fn.version), 1, 'a status report does not free it either')
  for (const stop of stops) stop()
  t.equal(h1.entry.active.get(fn.version), undefined, 'free once the host says the work stopped')
  t.equal(hosts.list().length, 1)
})

t.test('a just-started controller holds calls for a first host, within the hold and the deadline', async (t) => {
  const { dispatcher, hosts, clock } = setup(t, async () => OK, [])
  const held = dispatcher.call('add', ['1'], { deadlineMs: clock.now() + 5000 })
  clock.advance(1000)
  addHost(hosts, 'late')
  t.equal((await held).hostId, 'late', 'served by the host that registered during the hold')
  const fresh = setup(t, async () => OK, [], 2000)
  const orphan = fresh.dispatcher.call('add', ['1'], { deadlineMs: fresh.clock.now() + 5000 })
  fresh.clock.advance(2000)
  await t.rejects(orphan, { code: 'UNAVAILABLE', message: 'no host can run runtime "js": no hosts are connected' })
  await t.rejects(
    fresh.dispatcher.call('add', ['1']),
    { code: 'UNAVAILABLE', message: /no hosts are connected/ },
    'after the hold, at once',
  )
})

t.test('after close, new calls are refused as never started', async (t) => {
  const { dispatcher } = setup(t, async () => OK)
  dispatcher.close()
  await t.rejects(dispatcher.call('add', ['1']), {
    code: 'CLOSED',
    started: 'never',
    message: 'the controller is shutting down; the call did not start',
  })
})

t.test('arguments are checked before any host sees them', async (t) => {
  let invoked = 0
  const { dispatcher } = setup(t, async () => {
    invoked++
    return OK
  })
  await t.rejects(dispatcher.call('add', []), {
    code: 'INVALID_ARGUMENT',
    message: 'function "add" takes 1 to 2 arguments, got 0',
  })
  await t.rejects(dispatcher.call('add', ['1', '2', '3']), {
    code: 'INVALID_ARGUMENT',
    message: 'function "add" takes 1 to 2 arguments, got 3',
  })
  await t.rejects(dispatcher.call('add', ['{oops']), {
    code: 'INVALID_ARGUMENT',
    message: /^argument 1 of "add" is not JSON \(.+\): \{oops$/,
  })
  await t.rejects(dispatcher.call('add', [`"${'x'.repeat(80)}"`]), {
    code: 'PAYLOAD_TOO_LARGE',
    message: 'arguments of "add" are 82 bytes; the limit is 64',
  })
  await t.rejects(dispatcher.call('nope', []), { code: 'NOT_FOUND', message: 'function "nope" is not deployed' })
  t.equal(invoked, 0)
})
