// The engine client: which socket it uses ($DOCKER_HOST honoured, unix only),
// and what a missing engine or image looks like to a caller.
import { join } from 'node:path'
import { DEFAULT_SOCKET, DockerClient, resolveSocketPath } from '@osiris/container-fallback'
import { OsirisError } from '@osiris/proto'
import t from 'tap'
import { engine } from './helpers/engine.ts'

t.test('the socket: explicit, else $DOCKER_HOST unix://, else the default; tcp is refused', async (t) => {
  t.equal(resolveSocketPath(undefined, {}), DEFAULT_SOCKET)
  t.equal(resolveSocketPath(undefined, { DOCKER_HOST: 'unix:///run/podman/podman.sock' }), '/run/podman/podman.sock')
  t.equal(resolveSocketPath('/tmp/d.sock', { DOCKER_HOST: 'unix:///ignored.sock' }), '/tmp/d.sock')
  t.equal(resolveSocketPath('unix:///tmp/e.sock', {}), '/tmp/e.sock')
  const error = (() => {
    try {
      resolveSocketPath(undefined, { DOCKER_HOST: 'tcp://10.0.0.1:2375' })
    } catch (e) {
      return e
    }
  })()
  t.ok(error instanceof OsirisError)
  t.equal((error as OsirisError).code, 'INVALID_ARGUMENT')
  t.equal(
    (error as OsirisError).message,
    'DOCKER_HOST=tcp://10.0.0.1:2375 is not a unix socket; Osiris talks to the engine over unix:// only',
  )
})

t.test('no engine at the socket: UNAVAILABLE naming the socket', async (t) => {
  const path = join(t.testdirName, 'nothing.sock')
  const docker = new DockerClient(path)
  t.teardown(() => docker.close())
  const error = await docker.ping().catch((e: unknown) => e)
  t.equal((error as OsirisError).code, 'UNAVAILABLE')
  t.match((error as OsirisError).message, `container engine at ${path} does not answer (ping)`)
})

t.test('the real engine answers; a missing image is reported as missing, not as an error', async (t) => {
  const docker = await engine(t)
  const version = await docker.version()
  t.match(version.ApiVersion, /^1\.\d+$/)
  t.equal(await docker.hasImage('osiris-test/never-built:none'), false)
  t.same(await docker.listContainers(['dev.osiris.test=never-set']), [])
})
