// The SDK against answers no Osiris server sends: a gRPC server of this test's
// own on loopback answers CallFunction with a result that is not JSON, one
// nested past any function's limit, and an error status with no Osiris code.
// Each is an OsirisError with a stable code, never a bare SyntaxError.
import * as grpc from '@grpc/grpc-js'
import { OsirisError, OsirisService } from '@osiris/proto'
import { connect } from '@osiris/sdk'
import t from 'tap'

const RESULTS: Record<string, string> = {
  notjson: '<html>forged</html>',
  deep: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  halfjson: '{"a": 1',
  fine: '{"a":[1,2]}',
}

const server = new grpc.Server()
server.addService(OsirisService.service, {
  CallFunction(call: grpc.ServerUnaryCall<{ functionName: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
    const result = RESULTS[call.request.functionName]
    if (result === undefined) callback({ code: grpc.status.DATA_LOSS, details: 'a status no Osiris server answers' })
    else callback(null, { result, version: 1, callId: 'c', hostId: 'h' })
  },
})
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
    error ? reject(error) : resolve(p),
  ),
)
t.teardown(() => server.forceShutdown())
const osiris = connect(`127.0.0.1:${port}`, { token: '' })
t.teardown(() => osiris.close())

async function failure(name: string): Promise<OsirisError> {
  const error: unknown = await osiris.callFunction(name).then(
    (value) => new Error(`answered ${JSON.stringify(value)}`),
    (e: unknown) => e,
  )
  if (error instanceof OsirisError) return error
  throw error
}

t.test('a result that is not JSON is RESULT_NOT_JSON', async (t) => {
  const error = await failure('notjson')
  t.equal(error.code, 'RESULT_NOT_JSON')
  t.match(error.message, /^the result of "notjson" is not JSON \(Unexpected token/)
  t.equal((await failure('halfjson')).code, 'RESULT_NOT_JSON')
})

t.test('a result nested deeper than any function may return is RESULT_NOT_JSON', async (t) => {
  const error = await failure('deep')
  t.equal(error.code, 'RESULT_NOT_JSON')
  t.equal(error.message, 'the result of "deep" nests deeper than 1024 levels')
})

t.test('a status with no Osiris code is still an OsirisError with a stable code', async (t) => {
  const error = await failure('other')
  t.equal(error.code, 'INTERNAL')
  t.match(error.message, /a status no Osiris server answers/)
})

t.test('a well-formed answer still reads', async (t) => {
  t.same(await osiris.callFunction('fine'), { a: [1, 2] })
})
