// The error-code registry of the wire contract, and the conversions between
// domain errors and gRPC statuses. Every process converts at its boundary with
// these two functions and nowhere else.
import * as grpc from '@grpc/grpc-js'
import type { BreachKind } from './limits.ts'

const S = grpc.status

/**
 * Stable codes. Each maps to one gRPC status and one HTTP status (DESIGN.md's
 * error table); the code itself travels in the `osiris-code` trailer so a
 * client can tell, say, a syntax error from a wrong argument.
 */
export const ERROR_CODES = {
  NOT_FOUND: { grpc: S.NOT_FOUND, http: 404 },
  INVALID_ARGUMENT: { grpc: S.INVALID_ARGUMENT, http: 400 },
  COMPILE_ERROR: { grpc: S.INVALID_ARGUMENT, http: 400 },
  FUNCTION_ERROR: { grpc: S.UNKNOWN, http: 500 },
  RESULT_NOT_JSON: { grpc: S.UNKNOWN, http: 500 },
  DEADLINE_EXCEEDED: { grpc: S.DEADLINE_EXCEEDED, http: 504 },
  RESOURCE_EXHAUSTED: { grpc: S.RESOURCE_EXHAUSTED, http: 429 },
  PAYLOAD_TOO_LARGE: { grpc: S.RESOURCE_EXHAUSTED, http: 413 },
  UNAVAILABLE: { grpc: S.UNAVAILABLE, http: 503 },
  UNAUTHENTICATED: { grpc: S.UNAUTHENTICATED, http: 401 },
  PERMISSION_DENIED: { grpc: S.PERMISSION_DENIED, http: 403 },
  CANCELLED: { grpc: S.CANCELLED, http: 499 },
  CLOSED: { grpc: S.UNAVAILABLE, http: 503 },
  INTERNAL: { grpc: S.INTERNAL, http: 500 },
} as const satisfies Record<string, { grpc: grpc.status; http: number }>

export type ErrorCode = keyof typeof ERROR_CODES

/** What a function threw, as seen inside its isolate. */
export interface GuestError {
  name: string
  message: string
  stack: string
}

/**
 * What is known of whether a failed call ran (DESIGN.md, call semantics):
 * `never` — provably never started anywhere (the transport never delivered it,
 * or a server refused it before starting it): safe to send again;
 * `maybe` — it may have run, in part or whole (a connection or a host lost
 * after the call was sent): never sent again automatically.
 * Unset when the failure itself says what happened (the function threw, a
 * limit was hit, the arguments were refused).
 */
export type CallStarted = 'never' | 'maybe'

const CALL_STARTED: ReadonlySet<string> = new Set<CallStarted>(['never', 'maybe'])
const BREACH_KINDS: ReadonlySet<string> = new Set<BreachKind>(['time', 'cpu', 'memory', 'result'])

export class OsirisError extends Error {
  readonly code: ErrorCode
  /** With RESOURCE_EXHAUSTED from a full queue: how long to wait before retrying, ms. */
  retryAfterMs: number | undefined
  /** Whether the call may have run (see CallStarted); travels in the `osiris-started` trailer. */
  started: CallStarted | undefined
  /**
   * Which of the function's limits the host saw the call break, decided by the
   * host from what it observed (never from text); travels in the `osiris-breach` trailer.
   */
  breach: BreachKind | undefined

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }

  override get name(): string {
    return 'OsirisError'
  }
}

/**
 * Bounds, in UTF-8 bytes of their JSON encoding, of what a guest error may
 * carry once it has left the sandbox (whatever the sandbox cut). They keep a
 * failed call's trailers (`grpc-message` plus `osiris-guest-bin`) near 8 KiB
 * at worst, under HTTP/2 header-list limits (grpc-js's own and the 8 KiB
 * C-core clients take by default), so one error never resets a connection
 * other calls share.
 */
export const GUEST_LIMITS = { name: 256, message: 2048, stack: 4096 } as const

/** Most UTF-8 bytes of a status message (`grpc-message`, percent-encoded on the wire: up to 3× this). */
export const MAX_DETAILS_BYTES = 1024

const TRUNCATED = ' … (truncated)'

/**
 * `text` cut so its JSON encoding (quotes excluded) takes at most `maxBytes`
 * UTF-8 bytes, on a character boundary, ending in " … (truncated)" when cut.
 * Counts escapes (a control character is 6 bytes in JSON), so the bound holds
 * on the wire. Linear in `maxBytes`, whatever the length of `text`.
 */
export function cutText(text: string, maxBytes: number): string {
  const encoded = (s: string): number => Buffer.byteLength(JSON.stringify(s)) - 2
  // Every character costs at least one byte: nothing past maxBytes characters can fit.
  if (text.length <= maxBytes && encoded(text) <= maxBytes) return text
  const room = Math.max(0, maxBytes - Buffer.byteLength(TRUNCATED))
  let low = 0
  let high = Math.min(text.length, room)
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    if (encoded(text.slice(0, mid)) <= room) low = mid
    else high = mid - 1
  }
  let cut = text.slice(0, low)
  // Never end on half a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  return cut + TRUNCATED
}

/** A guest error with each field cut to GUEST_LIMITS (and anything not a string made one). */
export function boundGuestError(guest: GuestError): GuestError {
  const field = (value: unknown): string => (typeof value === 'string' ? value : String(value ?? ''))
  return {
    name: cutText(field(guest.name), GUEST_LIMITS.name),
    message: cutText(field(guest.message), GUEST_LIMITS.message),
    stack: cutText(field(guest.stack), GUEST_LIMITS.stack),
  }
}

/**
 * The called function threw; `guest` holds its own name, message and stack,
 * each cut to GUEST_LIMITS here, so no FunctionError carries more, whoever made it.
 */
export class FunctionError extends OsirisError {
  readonly guest: GuestError

  constructor(message: string, guest: GuestError) {
    super('FUNCTION_ERROR', message)
    this.guest = boundGuestError(guest)
  }

  override get name(): string {
    return 'FunctionError'
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value)
}

const CODE_KEY = 'osiris-code'
const GUEST_KEY = 'osiris-guest-bin'
const RETRY_KEY = 'osiris-retry-after-ms'
const STARTED_KEY = 'osiris-started'
const BREACH_KEY = 'osiris-breach'

/** Domain error (or anything thrown) → the status a gRPC handler answers with. */
export function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  const err =
    error instanceof OsirisError
      ? error
      : new OsirisError('INTERNAL', error instanceof Error ? error.message : String(error))
  const metadata = new grpc.Metadata()
  metadata.set(CODE_KEY, err.code)
  if (err instanceof FunctionError) {
    metadata.set(GUEST_KEY, Buffer.from(JSON.stringify(err.guest)))
  }
  if (err.retryAfterMs !== undefined) metadata.set(RETRY_KEY, String(err.retryAfterMs))
  if (err.started !== undefined) metadata.set(STARTED_KEY, err.started)
  if (err.breach !== undefined) metadata.set(BREACH_KEY, err.breach)
  // Messages may quote tenant text (a function name, what it threw): bounded, so the trailers are.
  return { code: ERROR_CODES[err.code].grpc, details: cutText(err.message, MAX_DETAILS_BYTES), metadata }
}

const FROM_STATUS: Partial<Record<grpc.status, ErrorCode>> = {
  [S.NOT_FOUND]: 'NOT_FOUND',
  [S.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [S.UNKNOWN]: 'FUNCTION_ERROR',
  [S.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [S.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [S.UNAVAILABLE]: 'UNAVAILABLE',
  [S.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [S.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [S.CANCELLED]: 'CANCELLED',
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && 'code' in error && typeof error.code === 'number' && 'metadata' in error
}

function readGuest(metadata: grpc.Metadata): GuestError | undefined {
  const raw = metadata.get(GUEST_KEY)[0]
  if (!(raw instanceof Buffer)) return undefined
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'))
    if (typeof parsed !== 'object' || parsed === null) return undefined
    const { name, message, stack } = parsed as Record<string, unknown>
    return { name: String(name ?? 'Error'), message: String(message ?? ''), stack: String(stack ?? '') }
  } catch {
    return undefined
  }
}

/** A failed call whose status came from the transport, not from an Osiris server's handler. */
export function isTransportError(error: unknown): error is grpc.ServiceError {
  return isServiceError(error) && error.metadata.get(CODE_KEY).length === 0
}

/**
 * A failed call that was sent (its stream handed to a ready connection) → the
 * domain error, with `started = 'maybe'` when the failure came from the
 * transport (a dropped connection, a reset stream, a deadline or cancel on
 * this side): the other end may have run it. Never decided from the message:
 * "never started" is only ever what a server said (`osiris-started: never`)
 * or what this side knows it did not send.
 */
export function fromSentCall(error: unknown, peer?: string): OsirisError {
  const converted = fromServiceError(error, peer)
  if (isTransportError(error)) converted.started ??= 'maybe'
  return converted
}

/** An OsirisError that says the call never started anywhere (safe to send again). */
export function notStarted(code: ErrorCode, message: string, options?: ErrorOptions): OsirisError {
  const error = new OsirisError(code, message, options)
  error.started = 'never'
  return error
}

/**
 * A failed gRPC call → the domain error it stands for. `peer` names the other
 * end in messages when the failure came from the transport rather than from
 * an Osiris server (which always sends its code).
 */
export function fromServiceError(error: unknown, peer?: string): OsirisError {
  if (error instanceof OsirisError) return error
  if (!isServiceError(error)) {
    return new OsirisError('INTERNAL', error instanceof Error ? error.message : String(error))
  }
  const sent = error.metadata.get(CODE_KEY)[0]
  const details = error.details || error.message
  const message = sent === undefined && peer ? `${peer}: ${details}` : details
  const code: ErrorCode =
    typeof sent === 'string' && isErrorCode(sent) ? sent : (FROM_STATUS[error.code as grpc.status] ?? 'INTERNAL')
  const guest = code === 'FUNCTION_ERROR' ? readGuest(error.metadata) : undefined
  const converted = guest ? new FunctionError(message, guest) : new OsirisError(code, message, { cause: error })
  const retry = Number(error.metadata.get(RETRY_KEY)[0])
  if (Number.isFinite(retry) && retry > 0) converted.retryAfterMs = retry
  const started = error.metadata.get(STARTED_KEY)[0]
  if (typeof started === 'string' && CALL_STARTED.has(started)) converted.started = started as CallStarted
  const breach = error.metadata.get(BREACH_KEY)[0]
  if (typeof breach === 'string' && BREACH_KINDS.has(breach)) converted.breach = breach as BreachKind
  return converted
}
