// Reads what the runtime's invoke answered (one tagged string, see
// runtime/bootstrap.js) into a result or the error to throw. Everything that
// comes out of an isolate is tenant-controlled in the worst case, so the
// shape and the size are checked here again, whatever the runtime promised.
import { boundGuestError, checkResult, cutText, FunctionError, OsirisError } from '@osiris/proto'

export interface OutcomeContext {
  module: string
  version: number
  functionName: string
  maxResultBytes: number
  maxResultDepth: number
}

/** Stack lines of the runtime wrapper mean nothing to the function's author. */
function guestStack(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => !line.includes('osiris:runtime'))
    .join('\n')
}

function tooLarge(ctx: OutcomeContext): OsirisError {
  const error = new OsirisError(
    'PAYLOAD_TOO_LARGE',
    `function "${ctx.functionName}" returned more than its limit of ${ctx.maxResultBytes} bytes of JSON`,
  )
  error.breach = 'result'
  return error
}

function thrown(ctx: OutcomeContext, body: string): FunctionError {
  const match = /^(\d+):(\d+):/.exec(body)
  const nameLength = Number(match?.[1] ?? -1)
  const messageLength = Number(match?.[2] ?? -1)
  const start = match?.[0].length ?? 0
  let guest = { name: 'Error', message: 'the thrown value could not be read', stack: '' }
  if (match && start + nameLength + messageLength <= body.length) {
    // Cut in bytes here, whatever the runtime cut in characters (8 KiB of 3-byte characters is 24 KiB).
    guest = boundGuestError({
      name: body.slice(start, start + nameLength),
      message: body.slice(start + nameLength, start + nameLength + messageLength),
      stack: guestStack(body.slice(start + nameLength + messageLength, start + nameLength + messageLength + 65536)),
    })
  }
  return new FunctionError(`function "${ctx.functionName}" threw ${guest.name}: ${guest.message}`, guest)
}

/** The result's JSON text, or throws the call's OsirisError. */
export function readOutcome(ctx: OutcomeContext, raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new OsirisError('INTERNAL', `function "${ctx.functionName}": the runtime answered ${typeof raw}`)
  }
  const body = raw.slice(1)
  switch (raw[0]) {
    case 'R': {
      // The runtime's own checks can be subverted from inside: size, depth and syntax are checked here.
      checkResult(ctx.functionName, body, ctx)
      return body
    }
    case 'L':
      throw tooLarge(ctx)
    case 'D': {
      // Tagged by the runtime's encoder itself, never by text tenant code wrote (that arrives as 'N').
      const error = new OsirisError(
        'RESULT_NOT_JSON',
        `function "${ctx.functionName}" returned a value that cannot be encoded as JSON: it nests deeper than ${ctx.maxResultDepth} levels`,
      )
      error.breach = 'result'
      throw error
    }
    case 'E':
      throw thrown(ctx, body)
    case 'N':
      throw new OsirisError(
        'RESULT_NOT_JSON',
        `function "${ctx.functionName}" returned a value that cannot be encoded as JSON: ${cutText(body, 512)}`,
      )
    case 'M':
      throw new OsirisError('NOT_FOUND', `module "${ctx.module}" v${ctx.version} has no function "${ctx.functionName}"`)
    default:
      throw new OsirisError('INTERNAL', `function "${ctx.functionName}": the runtime answered an unknown outcome`)
  }
}
