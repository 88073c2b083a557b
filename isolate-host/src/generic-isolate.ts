// A generic isolate: a V8 isolate with one context and the Osiris runtime
// globals installed, holding no tenant code yet. The warm pool keeps these
// ready; `specialize` (instance.ts) turns one into a function instance.
import ivm from 'isolated-vm'
import { randomBytes, urlParse } from './runtime-host.ts'
import { RUNTIME_SOURCE } from './runtime-source.ts'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogSink = (level: LogLevel, line: string) => void
/** Where the runtime's timer requests go: set by the instance for each call. */
export interface TimerSink {
  /** Call `seq` has a timer due at `atMs` (Date.now() time), sooner than any it asked for before. */
  schedule(seq: number, atMs: number): void
}
/** Where the runtime's fetches go: set by the instance for each call; answers come back through `deliver`. */
export interface FetchSink {
  start(seq: number, id: number, url: unknown, method: unknown, headers: unknown, body: unknown): void
}
type Bind = (namespace: unknown) => unknown
type Fire = (seq: number) => number
type Deliver = (seq: number, id: number, answer: unknown[]) => boolean
type Runtime = (...callbacks: unknown[]) => unknown[]

const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error'])
const discard: LogSink = () => {}
const noTimers: TimerSink = { schedule: () => {} }
const noFetch: FetchSink = { start: () => {} }

function int(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : -1
}

interface Entry {
  bind: ivm.Reference<Bind>
  fire: ivm.Reference<Fire>
  deliver: ivm.Reference<Deliver>
}

export class GenericIsolate {
  readonly isolate: ivm.Isolate
  readonly context: ivm.Context
  readonly memoryLimitMb: number
  /** `bind(namespace) → invoke` from the runtime; held by the host only. */
  readonly bind: ivm.Reference<Bind>
  /** `fire(seq) → next deadline or -1`: runs the due timers of call `seq`; held by the host only. */
  readonly fire: ivm.Reference<Fire>
  /** `deliver(seq, id, answer)`: hands a fetch its answer; held by the host only. */
  readonly deliver: ivm.Reference<Deliver>
  /** Where console output goes; set when the isolate is specialized. */
  sink: LogSink = discard
  timers: TimerSink = noTimers
  fetcher: FetchSink = noFetch

  private constructor(isolate: ivm.Isolate, context: ivm.Context, memoryLimitMb: number, entry: Entry) {
    this.isolate = isolate
    this.context = context
    this.memoryLimitMb = memoryLimitMb
    this.bind = entry.bind
    this.fire = entry.fire
    this.deliver = entry.deliver
  }

  /**
   * Creates an isolate with the runtime installed. Only `new Isolate` (about
   * 1 ms) runs on this thread; the context and the runtime are made with
   * isolated-vm's async calls, on its own threads, so the event loop keeps
   * serving calls meanwhile.
   */
  static async create(memoryLimitMb: number): Promise<GenericIsolate> {
    const isolate = new ivm.Isolate({ memoryLimit: memoryLimitMb })
    try {
      const context = await isolate.createContext()
      const script = await isolate.compileScript(RUNTIME_SOURCE, { filename: 'osiris:runtime' })
      const runtime = (await script.run(context, { reference: true })) as ivm.Reference<Runtime>
      script.release()
      // The callbacks reach the instance through `self`: none is called before the runtime has returned.
      let self: GenericIsolate | undefined
      const callbacks = [
        new ivm.Callback(
          (level: unknown, line: unknown) => {
            const known = typeof level === 'string' && LEVELS.has(level)
            self?.sink(known ? (level as LogLevel) : 'info', typeof line === 'string' ? line : '')
          },
          { ignored: true },
        ),
        new ivm.Callback((seq: unknown, atMs: unknown) => self?.timers.schedule(int(seq), int(atMs)), {
          ignored: true,
        }),
        new ivm.Callback(randomBytes),
        new ivm.Callback(urlParse),
        new ivm.Callback(
          (seq: unknown, id: unknown, url: unknown, method: unknown, headers: unknown, body: unknown) =>
            self?.fetcher.start(int(seq), int(id), url, method, headers, body),
          { ignored: true },
        ),
      ]
      const entry = (await runtime.apply(undefined, callbacks, { result: { reference: true } })) as ivm.Reference<
        unknown[]
      >
      runtime.release()
      const [bind, fire, deliver] = await Promise.all([0, 1, 2].map((i) => entry.get(i, { reference: true })))
      entry.release()
      self = new GenericIsolate(isolate, context, memoryLimitMb, {
        bind: bind as ivm.Reference<Bind>,
        fire: fire as ivm.Reference<Fire>,
        deliver: deliver as ivm.Reference<Deliver>,
      })
      return self
    } catch (error) {
      if (!isolate.isDisposed) isolate.dispose()
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
