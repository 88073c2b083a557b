// HTTP/JSON gateway: `POST /v1/call/{name}` with a JSON array of arguments
// answers the result as JSON; `GET /v1/functions` lists them; `GET /healthz`.
// Errors are one JSON shape, `{"error": {"code", "message", "guest"?}}`, with
// the HTTP status of the error table: this is the boundary's one conversion.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { ERROR_CODES, FunctionError, OsirisError } from '@osiris/proto'
import type { Dispatcher } from './dispatcher.ts'
import type { FunctionRegistry } from './function-registry.ts'

export interface GatewayOptions {
  maxBodyBytes: number
  callTimeoutMs: number
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
  send(res, ERROR_CODES[err.code].http, JSON.stringify({ error: body }))
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBytes) throw new OsirisError('PAYLOAD_TOO_LARGE', `request body is over the ${maxBytes} byte limit`)
    chunks.push(chunk as Buffer)
  }
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

export function createGateway(dispatcher: Dispatcher, functions: FunctionRegistry, options: GatewayOptions): Server {
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://gateway')
    const call = /^\/v1\/call\/([^/]+)$/.exec(url.pathname)
    if (call?.[1] !== undefined) {
      if (req.method !== 'POST') throw new OsirisError('INVALID_ARGUMENT', 'use POST to call a function')
      const name = decodeURIComponent(call[1])
      const args = parseArguments(await readBody(req, options.maxBodyBytes))
      const controller = new AbortController()
      res.once('close', () => controller.abort())
      const response = await dispatcher.call(name, args, {
        deadlineMs: Date.now() + options.callTimeoutMs,
        signal: controller.signal,
      })
      res.setHeader('x-osiris-version', String(response.version))
      res.setHeader('x-osiris-call-id', response.callId)
      send(res, 200, response.result)
      return
    }
    if (req.method === 'GET' && url.pathname === '/v1/functions') {
      send(res, 200, JSON.stringify({ functions: functions.list() }))
      return
    }
    if (req.method === 'GET' && url.pathname === '/healthz') {
      send(res, 200, '{"status":"ok"}')
      return
    }
    throw new OsirisError('NOT_FOUND', `no route for ${req.method} ${url.pathname}`)
  }
  return createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, error)
      else res.destroy()
    })
  })
}
