// The call queue in memory, on a hand-moved clock: FIFO per function, served
// round-robin across functions (a hot function cannot starve the rest), the
// bound refused at once with a retry hint, deadlines and aborts honoured.
import t from 'tap'
import { CallQueue, type Slot } from '../src/call-queue.ts'
import type { HostEntry } from '../src/host-registry.ts'
import type { FunctionRecord } from '../src/store/store.ts'
import { fnRecord, ManualClock } from './helpers/in-memory.ts'

/** A placer with `free` slots; each slot's release gives it back. */
function slots(free: number) {
  const pool = { free }
  const place = (): Slot | undefined => {
    if (pool.free <= 0) return undefined
    pool.free--
    return { host: {} as HostEntry, release: () => pool.free++ }
  }
  return { pool, place }
}

t.test('freed slots go round-robin across functions, FIFO within each', async (t) => {
  const clock = new ManualClock()
  const { pool, place } = slots(0)
  const queue = new CallQueue({ maxPerFunction: 10, retryAfterMs: 100 }, place, clock)
  const hot = fnRecord('hot')
  const cold = fnRecord('cold')
  const third = fnRecord('third')
  const served: string[] = []
  const wait = (fn: FunctionRecord, tag: string) =>
    queue.acquire(fn, new Set(), clock.now() + 60_000).then(() => served.push(tag))
  const all = [
    ...Array.from({ length: 5 }, (_, i) => wait(hot, `hot${i}`)),
    wait(cold, 'cold0'),
    wait(cold, 'cold1'),
    wait(third, 'third0'),
  ]
  t.equal(queue.size, 8)
  // Slots free one at a time, as calls end.
  for (let i = 0; i < 8; i++) {
    pool.free++
    queue.pump()
    await Promise.resolve()
  }
  await Promise.all(all)
  t.same(served, ['hot0', 'cold0', 'third0', 'hot1', 'cold1', 'hot2', 'hot3', 'hot4'])
  t.equal(queue.size, 0)
})

t.test('several slots at once are shared one per function per round', async (t) => {
  const clock = new ManualClock()
  const { pool, place } = slots(0)
  const queue = new CallQueue({ maxPerFunction: 10, retryAfterMs: 100 }, place, clock)
  const served: string[] = []
  const a = fnRecord('a')
  const b = fnRecord('b')
  const waits = [
    ...Array.from({ length: 4 }, (_, i) => queue.acquire(a, new Set(), Infinity).then(() => served.push(`a${i}`))),
    queue.acquire(b, new Set(), Infinity).then(() => served.push('b0')),
  ]
  pool.free = 3
  queue.pump()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(served, ['a0', 'b0', 'a1'], 'b is not left behind a burst of a')
  pool.free = 2
  queue.pump()
  await Promise.all(waits)
  t.same(served, ['a0', 'b0', 'a1', 'a2', 'a3'])
})

t.test('past the bound a call is refused at once with a retry hint', async (t) => {
  const queue = new CallQueue({ maxPerFunction: 2, retryAfterMs: 100 }, slots(0).place, new ManualClock())
  const fn = fnRecord('bounded')
  const waiting = [queue.acquire(fn, new Set(), Infinity), queue.acquire(fn, new Set(), Infinity)]
  await t.rejects(queue.acquire(fn, new Set(), Infinity), {
    code: 'RESOURCE_EXHAUSTED',
    message: `function "bounded" has 2 calls waiting for an instance, the most allowed; retry in 100 ms`,
    retryAfterMs: 100,
  })
  queue.close(new Error('closed'))
  for (const w of waiting) await t.rejects(w, { message: 'closed' })
})

t.test('a queued call answers DEADLINE_EXCEEDED a little before its deadline; an abort is CANCELLED', async (t) => {
  const clock = new ManualClock()
  const queue = new CallQueue({ maxPerFunction: 10, retryAfterMs: 100 }, slots(0).place, clock)
  const fn = fnRecord('slow')
  const late = queue.acquire(fn, new Set(), clock.now() + 1000)
  let settled = false
  late.catch(() => {}).finally(() => (settled = true))
  clock.advance(940)
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(settled, 'still waiting 60 ms before the deadline')
  clock.advance(10)
  await t.rejects(late, {
    code: 'DEADLINE_EXCEEDED',
    message: 'call of "slow" waited 950 ms for a free instance and reached its deadline',
  })
  const abort = new AbortController()
  const aborted = queue.acquire(fn, new Set(), clock.now() + 10_000, abort.signal)
  abort.abort()
  await t.rejects(aborted, { code: 'CANCELLED', message: 'call of "slow" was cancelled while queued' })
  t.equal(queue.size, 0, 'neither is left in the queue')
})

t.test('when no host can ever run it, every waiter of that function fails with why', async (t) => {
  let gone = false
  const place = (): Slot | undefined => {
    if (gone) throw Object.assign(new Error('no host can run runtime "js": no hosts are connected'), { code: 'X' })
    return undefined
  }
  const queue = new CallQueue({ maxPerFunction: 10, retryAfterMs: 100 }, place, new ManualClock())
  const fn = fnRecord('orphan')
  const waits = [queue.acquire(fn, new Set(), Infinity), queue.acquire(fn, new Set(), Infinity)]
  gone = true
  queue.pump()
  for (const w of waits) await t.rejects(w, { message: /no hosts are connected/ })
})
