// The OpenAPI document and the gateway's routes agree: every documented
// operation is served, every served route is documented, and /openapi.json
// answers the document shipped in the repository.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Controller } from '../src/controller.ts'
import { OPENAPI_DOCUMENT, ROUTES } from '../src/http-gateway.ts'

interface OpenApi {
  openapi: string
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
  components: { schemas: { ErrorBody: { properties: { error: { properties: { code: { enum: string[] } } } } } } }
}

const doc = JSON.parse(OPENAPI_DOCUMENT) as OpenApi

t.test('every route is documented and every documented operation is a route', async (t) => {
  t.equal(doc.openapi, '3.1.0')
  const documented = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort()
  const served = ROUTES.map((r) => `${r.method} ${r.path}`).sort()
  t.same(documented, served)
})

t.test("the error codes in the document are the registry's", async (t) => {
  const { ERROR_CODES } = await import('@osiris/proto')
  t.same(doc.components.schemas.ErrorBody.properties.error.properties.code.enum.sort(), Object.keys(ERROR_CODES).sort())
})

t.test('the served routes answer as documented', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'osiris-openapi-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const controller = await Controller.start({ listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir })
  t.teardown(() => controller.close(1000))
  const base = `http://${controller.httpAddress}`

  const served = await fetch(`${base}/openapi.json`)
  t.equal(served.status, 200)
  t.equal(await served.text(), OPENAPI_DOCUMENT)

  const checks: Array<[string, string, number]> = [
    ['GET', '/healthz', 200],
    ['GET', '/readyz', 503],
    ['GET', '/v1/functions', 200],
    ['GET', '/v1/functions/nope', 404],
    ['POST', '/v1/call/nope', 404],
  ]
  for (const [method, path, status] of checks) {
    const res = await fetch(`${base}${path}`, { method, ...(method === 'POST' ? { body: '[]' } : {}) })
    t.equal(res.status, status, `${method} ${path}`)
    const template = path.replace(/^\/v1\/(functions|call)\/nope$/, '/v1/$1/{name}')
    t.ok(
      doc.paths[template]?.[method.toLowerCase()]?.responses[String(status)],
      `${status} is documented for ${template}`,
    )
    await res.arrayBuffer()
  }
  const ready = (await (await fetch(`${base}/readyz`)).json()) as { error: { code: string; message: string } }
  t.same(ready, { error: { code: 'UNAVAILABLE', message: 'no host is connected and ready' } })

  const wrongMethod = await fetch(`${base}/v1/call/nope`)
  t.equal(wrongMethod.status, 400)
  t.same(await wrongMethod.json(), {
    error: { code: 'INVALID_ARGUMENT', message: 'GET is not allowed on /v1/call/nope; use POST' },
  })
  // A malformed percent-escape in a path parameter is the caller's error on every route that takes one.
  for (const [method, path] of [
    ['POST', '/v1/call/50%'],
    ['POST', '/v1/call/%zz'],
    ['GET', '/v1/functions/50%'],
    ['GET', '/v1/functions/%E2%82'],
  ] as const) {
    const res = await fetch(`${base}${path}`, { method, ...(method === 'POST' ? { body: '[]' } : {}) })
    t.equal(res.status, 400, `${method} ${path}`)
    const segment = path.split('/').at(-1)
    t.same(await res.json(), {
      error: { code: 'INVALID_ARGUMENT', message: `path segment "${segment}" is not valid percent-encoding` },
    })
  }
  const badTimeout = await fetch(`${base}/v1/call/nope`, { method: 'POST', headers: { 'x-osiris-timeout-ms': 'soon' } })
  t.equal(badTimeout.status, 400)
  t.match(await badTimeout.json(), { error: { message: 'x-osiris-timeout-ms must be a positive integer, got "soon"' } })
})
