// What a call's result must be to leave a host or be handed to a caller: JSON
// text, within a size in UTF-8 bytes and a nesting depth. Hosts check every
// executor's result with it before answering (whatever ran the function said
// about it), and clients check what they are answered before parsing it.
import { OsirisError } from './errors.ts'

/** Why a result cannot be taken: over the size limit, nested too deep, or not JSON at all. */
export type ResultProblem =
  | { kind: 'size'; bytes: number }
  | { kind: 'depth'; depth: number }
  | { kind: 'syntax'; message: string }

/**
 * Deepest nesting of arrays and objects in `json`, counting no further than
 * `limit` + 1 (strings skipped, escapes honoured). One pass, no allocation: it
 * runs before anything parses the text, so no parser meets a nesting it
 * cannot take.
 */
export function nestingDepth(json: string, limit: number): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth
      if (deepest > limit) return deepest
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return deepest
}

/**
 * Checks `text` is one JSON value of at most `maxBytes` UTF-8 bytes nesting at
 * most `maxDepth` arrays and objects; answers the first problem found, or
 * undefined. Size first (cheap, and bounds the rest), then depth, then a parse.
 */
export function resultProblem(text: string, maxBytes: number, maxDepth: number): ResultProblem | undefined {
  const bytes = text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text)
  if (bytes > maxBytes) return { kind: 'size', bytes }
  const depth = nestingDepth(text, maxDepth)
  if (depth > maxDepth) return { kind: 'depth', depth }
  try {
    JSON.parse(text)
  } catch (error) {
    return { kind: 'syntax', message: error instanceof Error ? error.message.slice(0, 200) : 'not JSON' }
  }
  return undefined
}

/**
 * Throws the error a host answers for a result that is not what `limits`
 * allow: over maxResultBytes → PAYLOAD_TOO_LARGE, deeper than maxResultDepth →
 * RESULT_NOT_JSON, both with breach 'result' (the host measured them); not
 * JSON at all → RESULT_NOT_JSON, no breach (a broken or subverted encoder).
 */
export function checkResult(
  functionName: string,
  text: string,
  limits: { maxResultBytes: number; maxResultDepth: number },
): void {
  const problem = resultProblem(text, limits.maxResultBytes, limits.maxResultDepth)
  if (problem === undefined) return
  let error: OsirisError
  if (problem.kind === 'size') {
    error = new OsirisError(
      'PAYLOAD_TOO_LARGE',
      `function "${functionName}" returned more than its limit of ${limits.maxResultBytes} bytes of JSON`,
    )
  } else if (problem.kind === 'depth') {
    error = new OsirisError(
      'RESULT_NOT_JSON',
      `function "${functionName}" returned a value that cannot be encoded as JSON: it nests deeper than ${limits.maxResultDepth} levels`,
    )
  } else {
    throw new OsirisError(
      'RESULT_NOT_JSON',
      `function "${functionName}" answered a result that is not JSON (${problem.message})`,
    )
  }
  error.breach = 'result'
  throw error
}
