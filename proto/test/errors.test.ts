// The error-code registry and its conversions at the gRPC boundary: the
// table is pinned literally here, so any change to a code's statuses is a
// deliberate change to the wire contract that also changes this test.
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import {
  ERROR_CODES,
  type ErrorCode,
  FunctionError,
  fromSentCall,
  fromServiceError,
  isErrorCode,
  notStarted,
  OsirisError,
  toServiceError,
} from '../src/errors.ts'
import { bindServer, handleUnary, parseAddress, shutdownServer } from '../src/grpc-util.ts'

const S = grpc.status

const EXPECTED: Record<ErrorCode, { grpc: grpc.status; http: number }> = {
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
}

const CODES = Object.keys(EXPECTED) as ErrorCode[]

/** What grpc-js hands a client callback for a failed call. */
function serviceError(status: Partial<grpc.StatusObject>): grpc.ServiceError {
  const code = status.code ?? S.UNKNOWN
  const details = status.details ?? ''
  return Object.assign(new Error(`${code} ${S[code]}: ${details}`), {
    code,
    details,
    metadata: status.metadata ?? new grpc.Metadata(),
  })
}

t.test('the registry maps every code to exactly the pinned gRPC and HTTP statuses', async (t) => {
  t.same(Object.keys(ERROR_CODES).sort(), [...CODES].sort(), 'no code added or removed')
  for (const code of CODES) {
    t.same(ERROR_CODES[code], EXPECTED[code], `${code} → gRPC ${S[EXPECTED[code].grpc]}, HTTP ${EXPECTED[code].http}`)
  }
  t.ok(isErrorCode('COMPILE_ERROR'))
  t.notOk(isErrorCode('BOGUS'))
  t.notOk(isErrorCode('toString'), 'inherited properties are not codes')
})

t.test('OsirisError and FunctionError carry their code and name', async (t) => {
  const err = new OsirisError('NOT_FOUND', 'no function "f"')
  t.ok(err instanceof Error)
  t.equal(err.code, 'NOT_FOUND')
  t.equal(err.name, 'OsirisError')
  t.equal(err.message, 'no function "f"')
  const guest = { name: 'TypeError', message: 'bad', stack: 'TypeError: bad\n    at f (m.js:1:1)' }
  const fnErr = new FunctionError('function "f" threw TypeError: bad', guest)
  t.ok(fnErr instanceof OsirisError)
  t.equal(fnErr.code, 'FUNCTION_ERROR')
  t.equal(fnErr.name, 'FunctionError')
  t.same(fnErr.guest, guest)
})

t.test('every code round-trips toServiceError → ServiceError → fromServiceError', async (t) => {
  for (const code of CODES) {
    const message = `something about ${code}`
    const status = toServiceError(new OsirisError(code, message))
    t.equal(status.code, EXPECTED[code].grpc, `${code}: gRPC status`)
    t.equal(status.details, message, `${code}: details are the message`)
    t.same(status.metadata?.get('osiris-code'), [code], `${code}: code travels in osiris-code`)
    const back = fromServiceError(serviceError(status), 'host-1')
    t.equal(back.code, code, `${code}: code survives`)
    t.equal(back.message, message, `${code}: message survives, with no peer prefix`)
    t.notOk(back instanceof FunctionError, `${code}: no guest, so not a FunctionError`)
  }
})

t.test("FunctionError round-trips with the guest's name, message and stack", async (t) => {
  const guest = {
    name: 'RangeError',
    message: 'too big: 7',
    stack: 'RangeError: too big: 7\n    at check (calc.js:3:11)\n    at add (calc.js:7:3)',
  }
  const status = toServiceError(new FunctionError('function "add" threw RangeError: too big: 7', guest))
  t.equal(status.code, S.UNKNOWN)
  const raw = status.metadata?.get('osiris-guest-bin')[0]
  t.ok(raw instanceof Buffer, 'guest travels as a binary trailer')
  const back = fromServiceError(serviceError(status))
  t.ok(back instanceof FunctionError)
  t.equal(back.code, 'FUNCTION_ERROR')
  t.equal(back.message, 'function "add" threw RangeError: too big: 7')
  t.same((back as FunctionError).guest, guest)
})

t.test('a FUNCTION_ERROR whose guest trailer is unreadable stays a plain OsirisError', async (t) => {
  const metadata = new grpc.Metadata()
  metadata.set('osiris-code', 'FUNCTION_ERROR')
  metadata.set('osiris-guest-bin', Buffer.from('{not json'))
  const back = fromServiceError(serviceError({ code: S.UNKNOWN, details: 'function "f" threw', metadata }))
  t.equal(back.code, 'FUNCTION_ERROR')
  t.equal(back.message, 'function "f" threw')
  t.notOk(back instanceof FunctionError)
})

t.test('a transport error without osiris-code maps by status and names the peer', async (t) => {
  const unavailable = serviceError({ code: S.UNAVAILABLE, details: 'No connection established' })
  const withPeer = fromServiceError(unavailable, '10.0.0.7:7401')
  t.equal(withPeer.code, 'UNAVAILABLE')
  t.equal(withPeer.message, '10.0.0.7:7401: No connection established')
  t.equal(withPeer.cause, unavailable, 'the grpc error is kept as the cause')

  const noPeer = fromServiceError(unavailable)
  t.equal(noPeer.code, 'UNAVAILABLE')
  t.equal(noPeer.message, 'No connection established')

  const deadline = fromServiceError(serviceError({ code: S.DEADLINE_EXCEEDED, details: 'Deadline exceeded' }), 'h')
  t.equal(deadline.code, 'DEADLINE_EXCEEDED')
  t.equal(deadline.message, 'h: Deadline exceeded')

  const unknownStatus = fromServiceError(serviceError({ code: S.DATA_LOSS, details: 'lost' }), 'h')
  t.equal(unknownStatus.code, 'INTERNAL', 'a status with no mapping is INTERNAL')
  t.equal(unknownStatus.message, 'h: lost')

  const bogus = new grpc.Metadata()
  bogus.set('osiris-code', 'NOT_A_CODE')
  const unknownCode = fromServiceError(serviceError({ code: S.NOT_FOUND, details: 'gone', metadata: bogus }), 'h')
  t.equal(unknownCode.code, 'NOT_FOUND', 'an unknown osiris-code falls back to the status')
  t.equal(unknownCode.message, 'gone', 'a server that sent a code is not the transport: no peer prefix')

  const empty = Object.assign(new Error('14 UNAVAILABLE: '), {
    code: S.UNAVAILABLE,
    details: '',
    metadata: new grpc.Metadata(),
  })
  t.equal(fromServiceError(empty, 'h').message, 'h: 14 UNAVAILABLE: ', 'empty details fall back to the message')
})

t.test('started (never / maybe) travels in the osiris-started trailer', async (t) => {
  const refused = notStarted('CLOSED', 'this host is shutting down; the call did not start')
  t.equal(refused.started, 'never')
  const status = toServiceError(refused)
  t.same(status.metadata?.get('osiris-started'), ['never'])
  const back = fromServiceError(serviceError(status))
  t.match(back, { code: 'CLOSED', started: 'never', message: 'this host is shutting down; the call did not start' })
  const lost = new OsirisError('UNAVAILABLE', 'host "h" was lost while the call of "f" was in flight')
  lost.started = 'maybe'
  t.match(fromServiceError(serviceError(toServiceError(lost))), { code: 'UNAVAILABLE', started: 'maybe' })
  const plain = fromServiceError(serviceError(toServiceError(new OsirisError('NOT_FOUND', 'no "f"'))))
  t.equal(plain.started, undefined, 'unset when the failure itself says what happened')
  const bogus = toServiceError(new OsirisError('UNAVAILABLE', 'x'))
  bogus.metadata?.set('osiris-started', 'perhaps')
  t.equal(fromServiceError(serviceError(bogus)).started, undefined, 'an unknown value is ignored')
})

t.test(
  'fromSentCall: a transport failure of a sent call may have run; a server answer keeps its own marker',
  async (t) => {
    // grpc-js's own status for a stream whose connection died, whatever its text.
    for (const details of ['Connection dropped', 'No connection established', 'read ECONNRESET', '']) {
      const dropped = fromSentCall(serviceError({ code: S.UNAVAILABLE, details }), 'host "h"')
      t.match(dropped, { code: 'UNAVAILABLE', started: 'maybe' }, `"${details}" is maybe, never never`)
    }
    t.match(fromSentCall(serviceError({ code: S.CANCELLED, details: 'Cancelled on client' })), {
      code: 'CANCELLED',
      started: 'maybe',
    })
    t.match(fromSentCall(serviceError(toServiceError(notStarted('CLOSED', 'leaving')))), {
      code: 'CLOSED',
      started: 'never',
    })
    t.equal(fromSentCall(serviceError(toServiceError(new OsirisError('FUNCTION_ERROR', 'boom')))).started, undefined)
  },
)

t.test('anything that is not an OsirisError becomes INTERNAL', async (t) => {
  const fromError = toServiceError(new TypeError('cannot read x'))
  t.equal(fromError.code, S.INTERNAL)
  t.equal(fromError.details, 'cannot read x')
  t.same(fromError.metadata?.get('osiris-code'), ['INTERNAL'])

  const fromString = toServiceError('plain string')
  t.equal(fromString.code, S.INTERNAL)
  t.equal(fromString.details, 'plain string')

  const fromObject = toServiceError({ oops: true })
  t.equal(fromObject.code, S.INTERNAL)
  t.equal(fromObject.details, '[object Object]')

  const plain = fromServiceError(new RangeError('out of range'), 'h')
  t.equal(plain.code, 'INTERNAL')
  t.equal(plain.message, 'out of range')
  t.equal(fromServiceError(42).code, 'INTERNAL')
  t.equal(fromServiceError(42).message, '42')

  const already = new OsirisError('NOT_FOUND', 'x')
  t.equal(fromServiceError(already, 'h'), already, 'an OsirisError passes through unchanged')
})

// The same conversions over a real grpc-js server and client: the trailers
// survive the wire, and a refused connection comes back as UNAVAILABLE.
const passthrough = {
  requestStream: false,
  responseStream: false,
  requestSerialize: (value: Buffer): Buffer => value,
  requestDeserialize: (bytes: Buffer): Buffer => bytes,
  responseSerialize: (value: Buffer): Buffer => value,
  responseDeserialize: (bytes: Buffer): Buffer => bytes,
} as const
const FAIL_PATH = '/osiris.test.Errors/Fail'

function callFail(client: grpc.Client, index: number): Promise<unknown> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      FAIL_PATH,
      passthrough.requestSerialize,
      passthrough.responseDeserialize,
      Buffer.from(String(index)),
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, value) => resolve(err ?? value),
    )
  })
}

t.test('errors survive a real gRPC round trip', async (t) => {
  const guest = { name: 'Error', message: 'kaput', stack: 'Error: kaput\n    at f (m.js:1:22)' }
  const thrown: unknown[] = [
    new OsirisError('COMPILE_ERROR', 'm.js does not compile: Unexpected token (line 3, column 1)'),
    new FunctionError('function "f" threw Error: kaput', guest),
    new OsirisError('PAYLOAD_TOO_LARGE', 'argument 1 is 2000000 bytes'),
    new Error('something internal'),
  ]
  const server = new grpc.Server()
  server.addService(
    { fail: { path: FAIL_PATH, ...passthrough } },
    {
      fail: handleUnary<Buffer, Buffer>((call) => {
        throw thrown[Number(call.request.toString())]
      }),
    },
  )
  const port = await bindServer(server, '127.0.0.1', 0)
  t.teardown(() => shutdownServer(server, 100))
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
  t.teardown(() => client.close())

  const compile = fromServiceError(await callFail(client, 0), `127.0.0.1:${port}`)
  t.equal(compile.code, 'COMPILE_ERROR', 'the code, not just the status, crosses the wire')
  t.equal(compile.message, 'm.js does not compile: Unexpected token (line 3, column 1)')

  const fnErr = fromServiceError(await callFail(client, 1))
  t.ok(fnErr instanceof FunctionError)
  t.equal(fnErr.message, 'function "f" threw Error: kaput')
  t.same((fnErr as FunctionError).guest, guest)

  const large = await callFail(client, 2)
  t.equal((large as grpc.ServiceError).code, S.RESOURCE_EXHAUSTED, 'a plain client sees the gRPC status')
  t.equal(fromServiceError(large).code, 'PAYLOAD_TOO_LARGE')

  const internal = fromServiceError(await callFail(client, 3))
  t.equal(internal.code, 'INTERNAL')
  t.equal(internal.message, 'something internal')
})

t.test('a refused connection is UNAVAILABLE and names the peer', async (t) => {
  // A port that was just free: bind, note it, shut down.
  const probe = new grpc.Server()
  const port = await bindServer(probe, '127.0.0.1', 0)
  await shutdownServer(probe, 0)
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
  t.teardown(() => client.close())
  const err = fromServiceError(await callFail(client, 0), `127.0.0.1:${port}`)
  t.equal(err.code, 'UNAVAILABLE')
  t.match(err.message, new RegExp(`^127\\.0\\.0\\.1:${port}: `))
})

t.test('parseAddress splits host:port and rejects anything else', async (t) => {
  t.same(parseAddress('localhost:7400'), { host: 'localhost', port: 7400 })
  t.same(parseAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 })
  t.same(parseAddress('0.0.0.0:65535'), { host: '0.0.0.0', port: 65535 })
  t.same(parseAddress('[::1]:8080'), { host: '::1', port: 8080 })
  t.same(parseAddress('[::]:7401'), { host: '::', port: 7401 })
  t.same(parseAddress('my-host.example.com:443'), { host: 'my-host.example.com', port: 443 })
  for (const bad of ['localhost', ':7400', 'localhost:', 'localhost:65536', 'localhost:123456', 'localhost:http', '']) {
    t.throws(() => parseAddress(bad), { message: `address must be host:port, got "${bad}"` }, `rejects "${bad}"`)
  }
})

t.test('cutText bounds the JSON-encoded UTF-8 bytes, on a character boundary, and marks the cut', async (t) => {
  const { cutText, boundGuestError, GUEST_LIMITS } = await import('../src/errors.ts')
  const encoded = (s: string) => Buffer.byteLength(JSON.stringify(s)) - 2
  t.equal(cutText('short', 64), 'short', 'what fits is untouched')
  for (const [what, text] of [
    ['ASCII', 'x'.repeat(5000)],
    ['3-byte characters', '€'.repeat(5000)],
    ['surrogate pairs', '😀'.repeat(5000)],
    ['control characters (6 bytes each in JSON)', '\u0001'.repeat(5000)],
    ['2,000,000 characters', 'y'.repeat(2_000_000)],
  ] as const) {
    const cut = cutText(text, 1000)
    t.ok(encoded(cut) <= 1000, `${what}: ${encoded(cut)} bytes`)
    t.ok(cut.endsWith(' … (truncated)'), `${what}: marked`)
    t.notOk(/[\uD800-\uDBFF] …/.test(cut), `${what}: no half surrogate pair`)
  }
  const guest = boundGuestError({ name: 'N'.repeat(1000), message: '€'.repeat(9000), stack: 's'.repeat(20000) })
  t.ok(Buffer.byteLength(guest.name) <= GUEST_LIMITS.name)
  t.ok(Buffer.byteLength(guest.message) <= GUEST_LIMITS.message)
  t.ok(Buffer.byteLength(guest.stack) <= GUEST_LIMITS.stack)
})
