// Child process for stuck-builtin.test.ts: a memory bomb inside
// Array.prototype.fill, then another call. Prints one JSON line per step,
// then lets the event loop drain.
import { OsirisError } from '@osiris/proto'
import { CodeCache, hashCode } from '../../src/code-cache.ts'
import { IsolateExecutor } from '../../src/isolate-executor.ts'

const say = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}
const codeCache = new CodeCache(async (hash) => {
  throw new OsirisError('NOT_FOUND', `no code ${hash}`)
}, 1 << 20)
const executor = new IsolateExecutor({
  poolTarget: 1,
  memoryLimitMb: 64,
  maxInstances: 8,
  loadTimeoutMs: 1000,
  codeCache,
  onLog: () => {},
  onChange: () => {},
})
const { code } = await executor.validate(
  'js',
  'export function bomb() { const keep = []; for (let n = 1 << 16; ; n *= 2) keep.push(Array(n).fill(n)) }\nexport function ok() { return "ok" }',
  'stuck.js',
)
const call = (functionName: string, version: number) =>
  executor.invoke({
    callId: functionName,
    functionName,
    module: 'stuck',
    version,
    codeHash: hashCode(code),
    args: [],
    timeoutMs: 20_000,
  })
await call('bomb', 1).then(
  () => say({ step: 'bomb', code: 'none' }),
  (error: OsirisError) => say({ step: 'bomb', code: error.code }),
)
say({ step: 'ok', result: (await call('ok', 2)).result })
await executor.close(0)
say({ step: 'closed' })
process.exitCode = 0
