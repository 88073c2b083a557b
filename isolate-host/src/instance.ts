// A function instance: a generic isolate specialized with one deployment's
// module. One deployment per isolate, never two tenants' code in one isolate.
// A call that breaches a limit disposes the whole instance; it is never reused.
import { FunctionError, type GuestError, OsirisError } from '@osiris/proto'
import type ivm from 'isolated-vm'
import type { GenericIsolate, LogSink } from './generic-isolate.ts'

export interface Deployment {
  module: string
  version: number
  code: string
}

type Outcome = { result: string } | { error: GuestError } | { notJson: string } | { missing: true }

type Invoke = (name: string, args: string[]) => Promise<Outcome>

/** Stack lines of the runtime wrapper mean nothing to the function's author. */
function guestStack(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => !line.includes('osiris:runtime'))
    .join('\n')
}

export class FunctionInstance {
  readonly deployment: Deployment
  readonly #generic: GenericIsolate
  readonly #invoke: ivm.Reference<Invoke>
  busy = false
  /** Evicted while busy: disposed when its call ends. */
  retired = false
  lastUsedMs = Date.now()

  /**
   * Loads the deployment's module into `generic` (compile, link, evaluate) and
   * binds the invoker. Throws OsirisError; on failure the isolate is disposed.
   */
  constructor(generic: GenericIsolate, deployment: Deployment, sink: LogSink, timeoutMs: number) {
    this.deployment = deployment
    this.#generic = generic
    try {
      const { isolate, context } = generic
      const module = isolate.compileModuleSync(deployment.code, { filename: `${deployment.module}.js` })
      module.instantiateSync(context, (specifier) => {
        throw new Error(`cannot import "${specifier}": functions cannot import modules`)
      })
      generic.sink = sink
      module.evaluateSync({ timeout: timeoutMs })
      this.#invoke = generic.bind.applySync(undefined, [module.namespace.derefInto()], {
        result: { reference: true },
      }) as ivm.Reference<Invoke>
    } catch (error) {
      generic.dispose()
      throw loadError(deployment, error)
    }
  }

  get disposed(): boolean {
    return this.#generic.disposed
  }

  /**
   * Runs `name(...args)`. The wall-clock limit covers awaited promises too:
   * when it fires the isolate is disposed, which stops the work.
   */
  async call(name: string, args: string[], timeoutMs: number): Promise<string> {
    this.lastUsedMs = Date.now()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      this.dispose()
    }, timeoutMs)
    let outcome: Outcome
    try {
      outcome = (await this.#invoke.apply(undefined, [name, args], {
        arguments: { copy: true },
        result: { promise: true, copy: true },
        timeout: timeoutMs,
      })) as Outcome
    } catch (error) {
      throw this.#failure(name, error, timedOut, timeoutMs)
    } finally {
      clearTimeout(timer)
      this.lastUsedMs = Date.now()
    }
    return unwrap(this.deployment, name, outcome)
  }

  #failure(name: string, error: unknown, timedOut: boolean, timeoutMs: number): OsirisError {
    const message = error instanceof Error ? error.message : String(error)
    const memory = /memory limit/i.test(message)
    this.dispose()
    if (timedOut || /timed out/i.test(message)) {
      return new OsirisError('DEADLINE_EXCEEDED', `function "${name}" ran past its ${timeoutMs} ms timeout`)
    }
    if (memory) {
      return new OsirisError('RESOURCE_EXHAUSTED', `function "${name}" ran out of memory and was stopped`)
    }
    return new OsirisError('INTERNAL', `function "${name}" failed in its isolate: ${message}`)
  }

  dispose(): void {
    this.#generic.dispose()
  }
}

function unwrap(deployment: Deployment, name: string, outcome: Outcome): string {
  if ('result' in outcome && typeof outcome.result === 'string') return outcome.result
  if ('error' in outcome) {
    const guest = { ...outcome.error, stack: guestStack(outcome.error.stack) }
    throw new FunctionError(`function "${name}" threw ${guest.name}: ${guest.message}`, guest)
  }
  if ('notJson' in outcome) {
    throw new OsirisError(
      'RESULT_NOT_JSON',
      `function "${name}" returned a value that cannot be encoded as JSON: ${outcome.notJson}`,
    )
  }
  throw new OsirisError('NOT_FOUND', `module "${deployment.module}" v${deployment.version} has no function "${name}"`)
}

function loadError(deployment: Deployment, error: unknown): OsirisError {
  const message = error instanceof Error ? error.message : String(error)
  const where = `module "${deployment.module}" v${deployment.version}`
  if (/timed out/i.test(message)) {
    return new OsirisError('DEADLINE_EXCEEDED', `${where}: top-level code ran past its timeout`)
  }
  return new OsirisError('INTERNAL', `${where} failed to load: ${message}`)
}
