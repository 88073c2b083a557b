// Checks a call's arguments against the function's registered parameters
// before any host sees them: each must be one JSON text, the count must fit,
// and the total size must stay under the payload limit.
import { OsirisError, type Parameter } from '@osiris/proto'

function plural(n: number): string {
  return n === 1 ? '1 argument' : `${n} arguments`
}

function arityText(params: readonly Parameter[]): string {
  const required = params.filter((p) => !p.optional && !p.rest).length
  if (params.some((p) => p.rest)) return `at least ${plural(required)}`
  if (required === params.length) return plural(required)
  return `${required} to ${plural(params.length)}`
}

export function checkArguments(
  name: string,
  params: readonly Parameter[],
  args: readonly string[],
  maxBytes: number,
): void {
  let bytes = 0
  for (const arg of args) bytes += Buffer.byteLength(arg)
  if (bytes > maxBytes) {
    throw new OsirisError('PAYLOAD_TOO_LARGE', `arguments of "${name}" are ${bytes} bytes; the limit is ${maxBytes}`)
  }
  const required = params.filter((p) => !p.optional && !p.rest).length
  const max = params.some((p) => p.rest) ? Number.POSITIVE_INFINITY : params.length
  if (args.length < required || args.length > max) {
    throw new OsirisError('INVALID_ARGUMENT', `function "${name}" takes ${arityText(params)}, got ${args.length}`)
  }
  args.forEach((arg, i) => {
    try {
      JSON.parse(arg)
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error)
      throw new OsirisError(
        'INVALID_ARGUMENT',
        `argument ${i + 1} of "${name}" is not JSON (${why}): ${arg.slice(0, 80)}`,
      )
    }
  })
}
