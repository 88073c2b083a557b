// HTTP/JSON gateway. Its routes are one table (ROUTES) that both serves and is
// checked against the OpenAPI document shipped beside it (openapi.json,
// served at /openapi.json). Errors are one JSON shape,
// `{"error": {"code", "message", "guest"?}}`, with the HTTP status of the
// error table: this is the boundary's one conversion.
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { type CallResponse, ERROR_CODES, FunctionError, OsirisError, socketIdentity } from '@osiris/proto'
import type { Authenticator, Role } from './auth.ts'
import type { Dispatcher } from './dispatcher.ts'
import type { FunctionRegistry } from './function-registry.ts'
import type { HostRegistry } from './host-registry.ts'
import type { ControllerMetrics } from './metrics.ts'

export const OPENAPI_DOCUMENT = readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')

export interface GatewayOptions {
  maxBodyBytes: number
  callTimeoutMs: number
  /** Serve HTTPS with this certificate and key; client certificates from `ca` are asked for, not required. */
  tls?: { cert: Buffer; key: Buffer; ca: Buffer } | undefined
}

interface Context {
  metrics: ControllerMetrics
  auth: Authenticator
  dispatcher: Dispatcher
  functions: FunctionRegistry
  hosts: HostRegistry
  options: GatewayOptions
}

type Handler = (ctx: Context, req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<void> | void

export interface Route {
  method: 'GET' | 'POST'
  /** The path as the OpenAPI document writes it. */
  path: string
  /** The role a caller's token needs; none for health and the document. */
  role?: { role: Role; what: string }
  handle: Handler
}

/** A call's timing breakdown as a Server-Timing header: each part in ms (openapi.json names them). */
function serverTiming(response: CallResponse): string {
  const parts: Array<[string, number]> = [
    ['queue', response.queuedUs],
    ['route', response.routeUs],
    ['fetch', response.codeFetchUs],
    ['start', response.startUs],
    ['exec', response.executionUs],
    ['host', response.hostDurationUs],
    ['total', response.totalUs],
  ]
  return parts.map(([name, us]) => `${name};dur=${us / 1000}`).join(', ')
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function sendError(res: ServerResponse, error: unknown): void {
  const err = error instanceof OsirisError ? error : new OsirisError('INTERNAL', String(error))
  const body: Record<string, unknown> = { code: err.code, message: err.message }
  if (err instanceof FunctionError) body.guest = err.guest
  if (err.retryAfterMs !== undefined) res.setHeader('retry-after', String(Math.ceil(err.retryAfterMs / 1000)))
  // Whether a failed call may have run: `never` (safe to send again) or `maybe`.
  if (err.started !== undefined) res.setHeader('x-osiris-started', err.started)
  send(res, ERROR_CODES[err.code].http, JSON.stringify({ error: body }))
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  // Past the limit the rest is read and dropped (up to a bound), so the client
  // gets the 413 instead of a connection reset while it is still sending.
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBytes * 16) break
    if (size <= maxBytes) chunks.push(chunk as Buffer)
  }
  if (size > maxBytes) throw new OsirisError('PAYLOAD_TOO_LARGE', `request body is over the ${maxBytes} byte limit`)
  return Buffer.concat(chunks).toString('utf8')
}

function parseArguments(body: string): string[] {
  let parsed: unknown
  try {
    parsed = body.trim() === '' ? [] : JSON.parse(body)
  } catch (error) {
    throw new OsirisError('INVALID_ARGUMENT', `body is not JSON: ${(error as Error).message}`)
  }
  if (!Array.isArray(parsed)) throw new OsirisError('INVALID_ARGUMENT', 'body must be a JSON array of arguments')
  return parsed.map((arg) => JSON.stringify(arg) ?? 'null')
}

/** `x-osiris-call-id`: the caller's own id for the call (at most 128 visible ASCII characters), else none. */
function callIdOf(req: IncomingMessage): string | undefined {
  const raw = req.headers['x-osiris-call-id']
  if (raw === undefined) return undefined
  if (typeof raw !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(raw)) {
    throw new OsirisError(
      'INVALID_ARGUMENT',
      `x-osiris-call-id must be 1 to 128 visible ASCII characters, got "${String(raw)}"`,
    )
  }
  return raw
}

/**
 * `x-osiris-timeout-ms`: the caller's deadline for this call, ms, or undefined
 * when it sets none (the function's own limit, else the platform's, applies:
 * the dispatcher takes the sooner).
 */
function timeoutOf(req: IncomingMessage): number | undefined {
  const raw = req.headers['x-osiris-timeout-ms']
  if (raw === undefined) return undefined
  const ms = Number(raw)
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new OsirisError('INVALID_ARGUMENT', `x-osiris-timeout-ms must be a positive integer, got "${String(raw)}"`)
  }
  return ms
}

export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/v1/call/{name}',
    role: { role: 'invoke', what: 'call functions' },
    handle: async ({ dispatcher, options }, req, res, [name = '']) => {
      const timeoutMs = timeoutOf(req)
      const callId = callIdOf(req)
      const args = parseArguments(await readBody(req, options.maxBodyBytes))
      // The client going away cancels the call, which stops its work on the host.
      const abort = new AbortController()
      res.once('close', () => abort.abort())
      const deadlineMs = timeoutMs === undefined ? undefined : Date.now() + timeoutMs
      const response = await dispatcher.call(name, args, { callId, deadlineMs, signal: abort.signal })
      res.setHeader('x-osiris-version', String(response.version))
      res.setHeader('x-osiris-call-id', response.callId)
      res.setHeader('x-osiris-host', response.hostId)
      res.setHeader('x-osiris-cold-start', String(response.coldStart))
      res.setHeader('server-timing', serverTiming(response))
      send(res, 200, response.result)
    },
  },
  {
    method: 'GET',
    path: '/v1/functions',
    role: { role: 'invoke', what: 'read functions' },
    handle: ({ functions }, _req, res) => send(res, 200, JSON.stringify({ functions: functions.list() })),
  },
  {
    method: 'GET',
    path: '/v1/functions/{name}',
    role: { role: 'invoke', what: 'read functions' },
    handle: ({ functions }, _req, res, [name = '']) => send(res, 200, JSON.stringify(functions.get(name))),
  },
  { method: 'GET', path: '/healthz', handle: (_ctx, _req, res) => send(res, 200, '{"status":"ok"}') },
  {
    method: 'GET',
    path: '/readyz',
    handle: ({ hosts }, _req, res) => {
      const ready = hosts.list().filter((h) => h.state === 'ready').length
      if (ready === 0) throw new OsirisError('UNAVAILABLE', 'no host is connected and ready')
      send(res, 200, JSON.stringify({ status: 'ready', hosts: ready }))
    },
  },
  {
    method: 'GET',
    path: '/metrics',
    // Metrics name every function and host: with auth on, a scraper needs a token (role metrics or admin).
    role: { role: 'metrics', what: 'read metrics' },
    handle: async ({ metrics }, _req, res) => {
      const body = await metrics.registry.metrics()
      res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(body) })
      res.end(body)
    },
  },
  { method: 'GET', path: '/openapi.json', handle: (_ctx, _req, res) => send(res, 200, OPENAPI_DOCUMENT) },
]

/** A path parameter, percent-decoded; a malformed escape (`50%`, `%zz`, bad UTF-8) is the caller's error. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new OsirisError('INVALID_ARGUMENT', `path segment "${segment.slice(0, 256)}" is not valid percent-encoding`)
  }
}

const COMPILED = ROUTES.map((route) => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/\{[^}]+\}/g, '([^/]+)')}$`),
}))

export function createGateway(ctx: Context): Server {
  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { pathname } = new URL(req.url ?? '/', 'http://gateway')
    const matches = COMPILED.map(({ route, pattern }) => ({ route, m: pattern.exec(pathname) })).filter((x) => x.m)
    const match = matches.find((x) => x.route.method === req.method)
    if (!match?.m) {
      if (matches.length > 0) {
        const allowed = matches.map((x) => x.route.method).join(', ')
        throw new OsirisError('INVALID_ARGUMENT', `${req.method} is not allowed on ${pathname}; use ${allowed}`)
      }
      throw new OsirisError('NOT_FOUND', `no route for ${req.method} ${pathname}`)
    }
    const needed = match.route.role
    if (needed) ctx.auth.check(req.headers.authorization, needed.role, needed.what, socketIdentity(req.socket))
    await match.route.handle(ctx, req, res, match.m.slice(1).map(decodeSegment))
  }
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    dispatch(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, error)
      else res.destroy()
    })
  }
  const { tls } = ctx.options
  return tls ? createTlsServer({ ...tls, requestCert: true, rejectUnauthorized: false }, handle) : createServer(handle)
}
