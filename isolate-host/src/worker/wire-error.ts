// OsirisError ⇄ the plain object that crosses the worker channel, with the
// wire fields (started, breach, retry hint) and a thrown function's guest error.
import { FunctionError, isErrorCode, OsirisError } from '@osiris/proto'
import type { WireError } from './protocol.ts'

/** Anything thrown → what crosses; what is not an OsirisError is INTERNAL. */
export function toWire(error: unknown): WireError {
  if (!(error instanceof OsirisError)) {
    return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) }
  }
  const wire: WireError = { code: error.code, message: error.message }
  if (error.started !== undefined) wire.started = error.started
  if (error.breach !== undefined) wire.breach = error.breach
  if (error.retryAfterMs !== undefined) wire.retryAfterMs = error.retryAfterMs
  if (error instanceof FunctionError) wire.guest = { ...error.guest }
  return wire
}

/** What crossed → an OsirisError again; a code the registry does not know is INTERNAL. */
export function fromWire(wire: WireError): OsirisError {
  const code = isErrorCode(String(wire.code)) ? wire.code : 'INTERNAL'
  const message = String(wire.message)
  const error =
    code === 'FUNCTION_ERROR' && wire.guest
      ? new FunctionError(message, {
          name: String(wire.guest.name),
          message: String(wire.guest.message),
          stack: String(wire.guest.stack),
        })
      : new OsirisError(code, message)
  if (wire.started === 'never' || wire.started === 'maybe') error.started = wire.started
  if (wire.breach === 'time' || wire.breach === 'cpu' || wire.breach === 'memory' || wire.breach === 'result') {
    error.breach = wire.breach
  }
  if (typeof wire.retryAfterMs === 'number') error.retryAfterMs = wire.retryAfterMs
  return error
}
