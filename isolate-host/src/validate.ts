// Deploy-time validation of a JS/TS module, run on a host because it compiles
// and loads tenant code: TypeScript is stripped to JavaScript, the functions
// and their parameters are read from the source, and the module is compiled,
// linked and evaluated once in a throwaway isolate to prove it loads.

import { cutText, OsirisError, type ValidateResponse } from '@osiris/proto'
import amaro from 'amaro'
import ivm from 'isolated-vm'
import { GenericIsolate } from './generic-isolate.ts'
import { readModuleShape } from './signatures.ts'

export const ISOLATE_RUNTIMES = ['js', 'ts'] as const
export type IsolateRuntime = (typeof ISOLATE_RUNTIMES)[number]

export function isIsolateRuntime(runtime: string): runtime is IsolateRuntime {
  return (ISOLATE_RUNTIMES as readonly string[]).includes(runtime)
}

interface AmaroError {
  message: string
  startLine: number
  startColumn: number
}

function isAmaroError(error: unknown): error is AmaroError {
  return typeof error === 'object' && error !== null && 'startLine' in error && 'startColumn' in error
}

/** TypeScript → JavaScript by erasing types in place, so lines and columns stay put. */
export function stripTypes(source: string, filename: string): string {
  try {
    return amaro.transformSync(source, { mode: 'strip-only' }).code
  } catch (error) {
    if (!isAmaroError(error)) throw error
    throw new OsirisError(
      'COMPILE_ERROR',
      `${filename} does not compile: ${error.message} (line ${error.startLine}, column ${error.startColumn + 1})`,
    )
  }
}

export interface ValidateOptions {
  memoryLimitMb: number
  /** Limit for the module's top-level code, in milliseconds. */
  timeoutMs: number
  /**
   * For `ts`: the JavaScript already stripped from `source` elsewhere (a worker
   * strips in a disposable thread of its own). The TypeScript source is still
   * read for what stripping removes (`name?` parameters).
   */
  stripped?: string
}

export async function validateModule(
  runtime: string,
  source: string,
  filename: string,
  options: ValidateOptions,
): Promise<ValidateResponse> {
  if (!isIsolateRuntime(runtime)) {
    throw new OsirisError('INVALID_ARGUMENT', `runtime "${runtime}" is not served by isolates (use js or ts)`)
  }
  const javascript = runtime === 'ts' ? (options.stripped ?? stripTypes(source, filename)) : source
  const shape = readModuleShape(javascript, filename, runtime === 'ts' ? source : undefined)
  if (shape.functions.length === 0) {
    throw new OsirisError('INVALID_ARGUMENT', `${filename} defines no functions to deploy`)
  }
  await loadOnce(
    shape.code,
    filename,
    shape.functions.map((f) => f.name),
    options,
  )
  return { code: shape.code, functions: shape.functions }
}

async function loadOnce(code: string, filename: string, names: string[], options: ValidateOptions): Promise<void> {
  const generic = await GenericIsolate.create(options.memoryLimitMb)
  try {
    const { isolate, context } = generic
    let module: Awaited<ReturnType<typeof isolate.compileModule>>
    try {
      module = await isolate.compileModule(code, { filename })
    } catch (error) {
      throw v8CompileError(filename, error)
    }
    await module.instantiate(context, (specifier) => {
      throw new Error(`cannot import "${specifier}"`)
    })
    try {
      await module.evaluate({ timeout: options.timeoutMs })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      throw new OsirisError('INVALID_ARGUMENT', `${filename} failed while loading: ${cutText(message, 2048)}`)
    }
    // Asked with no built-in the module's top level could have replaced (it ran
    // just before): indexes, typeof and string concatenation; one string back.
    const answer: unknown = await context.evalClosure(
      'let kinds = ""; for (let i = 0; i < $1.length; i++) kinds += typeof $0[$1[i]] + " "; return kinds',
      [module.namespace.derefInto(), new ivm.ExternalCopy(names).copyInto()],
      { timeout: options.timeoutMs },
    )
    const kinds = typeof answer === 'string' ? answer.split(' ') : []
    names.forEach((name, i) => {
      const kind = kinds[i]
      if (kind !== 'function') {
        throw new OsirisError('INVALID_ARGUMENT', `${filename}: export "${name}" is a ${String(kind)}, not a function`)
      }
    })
  } finally {
    generic.dispose()
  }
}

/** V8's own compile errors (early errors acorn lets through) carry the position in the stack. */
function v8CompileError(filename: string, error: unknown): OsirisError {
  const message = error instanceof Error ? error.message : String(error)
  const stack = error instanceof Error ? (error.stack ?? '') : ''
  const at = new RegExp(`${filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)(?::(\\d+))?`).exec(stack)
  const where = at ? ` (line ${at[1]}, column ${at[2] ?? 1})` : ''
  return new OsirisError('COMPILE_ERROR', `${filename} does not compile: ${cutText(message, 2048)}${where}`)
}
