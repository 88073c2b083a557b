// The controller's log store is bounded per function in lines and in bytes,
// and in bytes over every function (a flood of one function, or of many,
// cannot grow the controller without end).
import type { LogLine } from '@osiris/proto'
import t from 'tap'
import { LogStore } from '../src/log-store.ts'

const line = (functionName: string, i: number, text: string): LogLine => ({
  timeMs: i,
  level: 'info',
  functionName,
  module: functionName,
  version: 1,
  callId: `c${i}`,
  line: text,
  hostId: 'h',
})

t.test('per function: the newest lines within both the line and the byte bound', async (t) => {
  const store = new LogStore({ perFunctionLines: 5, perFunctionBytes: 10_000, totalBytes: 1 << 20 })
  for (let i = 0; i < 10; i++) store.append(line('few', i, `line ${i}`))
  t.same(
    store.recent('few', 100).map((l) => l.line),
    ['line 5', 'line 6', 'line 7', 'line 8', 'line 9'],
  )
  for (let i = 0; i < 10; i++) store.append(line('wide', i, 'x'.repeat(3000)))
  const wide = store.recent('wide', 100)
  t.equal(wide.length, 3, 'three 3 KB lines fit in 10 KB')
  t.same(
    wide.map((l) => l.callId),
    ['c7', 'c8', 'c9'],
  )
})

t.test('overall: past the total, the largest function gives up its oldest lines first', async (t) => {
  const store = new LogStore({ perFunctionLines: 1000, perFunctionBytes: 1 << 20, totalBytes: 50_000 })
  for (let i = 0; i < 5; i++) store.append(line('quiet', i, `q${i}`))
  for (let i = 0; i < 100; i++) store.append(line('loud', i, 'y'.repeat(4000)))
  t.ok(store.bytes <= 50_000, `${store.bytes} bytes held`)
  t.equal(store.recent('quiet', 100).length, 5, "a quiet function keeps its lines through another's flood")
  t.equal(store.recent('loud', 1)[0]?.callId, 'c99', 'the newest line of the flood is kept')
  store.drop('loud')
  t.equal(store.recent('loud', 100).length, 0)
  t.ok(store.bytes < 1000, 'dropping a function frees its bytes')
})
