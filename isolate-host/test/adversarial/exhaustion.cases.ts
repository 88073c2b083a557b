// Adversarial cases: using up time, memory, stack, timers and log space.
import type { Case } from './corpus.ts'

const TIMEOUT = (ms: number) => `function "attack" ran past its ${ms} ms timeout`
const MEMORY = 'function "attack" ran past its 64 MiB memory limit and was stopped'

export const EXHAUSTION_CASES: Case[] = [
  {
    name: 'while (true) {}',
    source: 'export function attack() { while (true) {} }',
    timeoutMs: 200,
    expect: { code: 'DEADLINE_EXCEEDED', message: TIMEOUT(200), breach: 'time' },
  },
  {
    name: 'await new Promise(() => {})',
    source: 'export async function attack() { await new Promise(() => {}) }',
    timeoutMs: 200,
    expect: { code: 'DEADLINE_EXCEEDED', message: TIMEOUT(200), breach: 'time' },
  },
  {
    name: 'a microtask storm: an endless chain of resolved promises',
    source: 'export function attack() { const loop = () => Promise.resolve().then(loop); return loop() }',
    timeoutMs: 200,
    expect: { code: 'DEADLINE_EXCEEDED', message: TIMEOUT(200), breach: 'time' },
  },
  {
    name: 'a microtask storm left behind after returning a value',
    source: 'export function attack() { (async () => { for (;;) await null })(); return "returned" }',
    timeoutMs: 200,
    expect: { code: 'DEADLINE_EXCEEDED', message: TIMEOUT(200), breach: 'time' },
  },
  {
    name: 'an endless loop inside a timer callback',
    source: 'export function attack() { return new Promise(() => setTimeout(() => { for (;;) {} }, 0)) }',
    timeoutMs: 200,
    expect: { code: 'DEADLINE_EXCEEDED', message: TIMEOUT(200), breach: 'time' },
  },
  {
    name: 'a 0 ms setInterval storm while awaiting forever',
    source: 'export function attack() { let n = 0; setInterval(() => { n++ }, 0); return new Promise(() => {}) }',
    timeoutMs: 200,
    expect: { code: 'DEADLINE_EXCEEDED', message: TIMEOUT(200), breach: 'time' },
  },
  {
    name: 'CPU burned in small slices across many timers (CPU limit 50 ms)',
    source: `export async function attack() {
  for (;;) { await new Promise((r) => setTimeout(r, 0)); let x = 0; while (x < 2e6) x++ }
}`,
    timeoutMs: 10_000,
    limits: { cpuMs: 50 },
    expect: { code: 'DEADLINE_EXCEEDED', message: 'function "attack" used more than 50 ms of CPU time', breach: 'cpu' },
  },
  {
    name: 'Atomics.wait to block the thread (no SharedArrayBuffer to wait on)',
    source: 'export function attack() { return Atomics.wait(new Int32Array(4), 0, 0) }',
    expect: { code: 'FUNCTION_ERROR', message: /^function "attack" threw TypeError: / },
  },
  {
    name: 'heap bomb: pushing objects into an array forever',
    source: 'export function attack() { const a = []; for (;;) a.push({ n: a.length }) }',
    timeoutMs: 10_000,
    expect: { code: 'RESOURCE_EXHAUSTED', message: MEMORY, breach: 'memory' },
  },
  {
    name: 'heap bomb: Array(n).fill with growing n',
    source: 'export function attack() { const keep = []; for (let n = 1 << 16; ; n *= 2) keep.push(Array(n).fill(n)) }',
    timeoutMs: 10_000,
    expect: { code: 'RESOURCE_EXHAUSTED', message: MEMORY, breach: 'memory' },
  },
  {
    name: 'heap bomb: a huge flat string (repeat, then used)',
    source: "export function attack() { const keep = []; for (;;) keep.push('x'.repeat(1 << 24) + keep.length) }",
    timeoutMs: 10_000,
    expect: { code: 'RESOURCE_EXHAUSTED', message: MEMORY, breach: 'memory' },
  },
  {
    name: 'heap bomb: doubling a string until V8 refuses its length',
    source: "export function attack() { let s = 'x'; for (;;) s += s }",
    expect: { code: 'FUNCTION_ERROR', message: 'function "attack" threw RangeError: Invalid string length' },
  },
  {
    name: 'heap bomb: JSON.parse of a huge generated input',
    source: "export function attack() { return JSON.parse('[' + '1,'.repeat(5e7) + '1]').length }",
    timeoutMs: 10_000,
    expect: { code: 'RESOURCE_EXHAUSTED', message: MEMORY, breach: 'memory' },
  },
  {
    name: 'ArrayBuffer bomb: one 2 GiB buffer',
    source: 'export function attack() { return new ArrayBuffer(2 ** 31).byteLength }',
    expect: { code: 'FUNCTION_ERROR', message: 'function "attack" threw RangeError: Array buffer allocation failed' },
  },
  {
    name: 'ArrayBuffer bomb: 8 MiB buffers until refused; what was granted stays near the limit',
    source: `export function attack() {
  const keep = []
  try { for (;;) keep.push(new Uint8Array(8 << 20).fill(1)) } catch (e) { return [e.message, keep.length * 8 <= 96] }
}`,
    expect: { result: ['Array buffer allocation failed', true] },
  },
  {
    name: 'WebAssembly memory growth (WebAssembly is not offered: its memory escapes the heap limit)',
    source:
      'export function attack() { const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); m.grow(60000); return m.buffer.byteLength }',
    expect: { code: 'FUNCTION_ERROR', message: 'function "attack" threw ReferenceError: WebAssembly is not defined' },
  },
  {
    name: 'deep recursion',
    source: 'export function attack() { const r = (n) => r(n + 1) + 1; return r(0) }',
    expect: { code: 'FUNCTION_ERROR', message: 'function "attack" threw RangeError: Maximum call stack size exceeded' },
  },
  {
    name: 'FinalizationRegistry callbacks that would run outside any call (not offered)',
    source: 'export function attack() { new FinalizationRegistry(() => { for (;;) {} }).register({}, 1); return 1 }',
    expect: {
      code: 'FUNCTION_ERROR',
      message: 'function "attack" threw ReferenceError: FinalizationRegistry is not defined',
    },
  },
  {
    name: 'a log flood: a million 1 KiB lines, cut at the 64 KiB budget with one marker line',
    source:
      "export function attack() { const l = 'y'.repeat(1024); for (let i = 0; i < 1e6; i++) console.log(l); return 'flooded' }",
    expect: { result: 'flooded' },
    logs: (lines) => {
      if (lines.at(-1) !== '[osiris] console output truncated: more than 65536 bytes in this call') {
        throw new Error(`no truncation marker: ${lines.at(-1)}`)
      }
      if (lines.length > 70) throw new Error(`${lines.length} lines passed the budget`)
    },
  },
  {
    name: 'a million timers set and cleared in a loop (host timers stay bounded)',
    source:
      'export function attack() { for (let i = 0; i < 1e6; i++) clearTimeout(setTimeout(() => {}, 1000)); return "churned" }',
    expect: { result: 'churned' },
  },
  {
    name: 'more pending timers than a call may hold',
    source: 'export function attack() { for (let i = 0; i < 5000; i++) setTimeout(() => {}, 60000); return "set" }',
    expect: {
      code: 'FUNCTION_ERROR',
      message: 'function "attack" threw RangeError: too many pending timers: a call may have at most 1000',
    },
  },
]
