// A generic isolate: a V8 isolate with one context and the Osiris runtime
// globals installed, holding no tenant code yet. The warm pool keeps these
// ready; `specialize` (instance.ts) turns one into a function instance.
import { readFileSync } from 'node:fs'
import ivm from 'isolated-vm'

const BOOTSTRAP_SOURCE = readFileSync(new URL('./runtime/bootstrap.js', import.meta.url), 'utf8')

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogSink = (level: LogLevel, line: string) => void
type Bind = (namespace: unknown) => unknown

const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error'])
const discard: LogSink = () => {}

export class GenericIsolate {
  readonly isolate: ivm.Isolate
  readonly context: ivm.Context
  /** `bind(namespace) → invoke` from the bootstrap; held by the host only. */
  readonly bind: ivm.Reference<Bind>
  /** Where console output goes; set when the isolate is specialized. */
  sink: LogSink = discard

  /** Creates an isolate with the runtime installed (synchronous, a few ms). */
  constructor(memoryLimitMb: number) {
    this.isolate = new ivm.Isolate({ memoryLimit: memoryLimitMb })
    try {
      this.context = this.isolate.createContextSync()
      const script = this.isolate.compileScriptSync(BOOTSTRAP_SOURCE, { filename: 'osiris:runtime' })
      const bootstrap = script.runSync(this.context, { reference: true }) as ivm.Reference<(log: unknown) => Bind>
      const log = new ivm.Callback(
        (level: unknown, line: unknown) => {
          this.sink(typeof level === 'string' && LEVELS.has(level) ? (level as LogLevel) : 'info', String(line))
        },
        { ignored: true },
      )
      this.bind = bootstrap.applySync(undefined, [log], { result: { reference: true } }) as ivm.Reference<Bind>
      bootstrap.release()
      script.release()
    } catch (error) {
      this.isolate.dispose()
      throw error
    }
  }

  get disposed(): boolean {
    return this.isolate.isDisposed
  }

  dispose(): void {
    if (!this.isolate.isDisposed) this.isolate.dispose()
  }
}
