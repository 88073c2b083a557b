// What a network peer hands the controller, at its worst: a function name of
// a million 3-byte characters comes back NOT_FOUND with a bounded message,
// not as a reset stream, and the caller's connection keeps serving.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_DETAILS_BYTES } from '@osiris/proto'
import { connect, type OsirisError } from '@osiris/sdk'
import t from 'tap'
import { Controller } from '../src/controller.ts'

t.test('a huge function name is NOT_FOUND with a bounded message; the channel keeps serving', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'osiris-hostile-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const controller = await Controller.start({ listen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir })
  t.teardown(() => controller.close(1000))
  const client = connect(controller.address)
  t.teardown(() => client.close())
  const name = '€'.repeat(1_000_000)
  const error = (await client.callFunction(name).catch((e: unknown) => e)) as OsirisError
  t.equal(error.code, 'NOT_FOUND')
  t.ok(Buffer.byteLength(error.message) <= MAX_DETAILS_BYTES, `${Buffer.byteLength(error.message)} bytes`)
  t.match(error.message, /^function "€+ … \(truncated\)$/)
  const again = (await client.callFunction('nope').catch((e: unknown) => e)) as OsirisError
  t.equal(again.code, 'NOT_FOUND')
  t.equal(again.message, 'function "nope" is not deployed', 'the same client keeps serving')
  const post = (path: string) => fetch(`http://${controller.httpAddress}${path}`, { method: 'POST', body: '[]' })
  const http = await post(`/v1/call/${encodeURIComponent('€'.repeat(1000))}`)
  t.equal(http.status, 404)
  t.same(await http.json(), { error: { code: 'NOT_FOUND', message: `function "${'€'.repeat(1000)}" is not deployed` } })
  const huge = await post(`/v1/call/${encodeURIComponent('€'.repeat(100_000))}`)
  t.equal(huge.status, 431, "past node's header limit (16 KiB) the request line itself is refused")
  await huge.arrayBuffer()
})
