// Containers of an executor whose process was killed (no close) are removed
// by the next executor that starts on the engine.
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ContainerExecutor } from '@osiris/container-fallback'
import t from 'tap'
import { spawnAsUser } from '../../cli/test/helpers/platform.ts'
import { LABEL_OWNER_PID } from '../src/container.ts'
import { containersLabelled, engine, pythonImage } from './helpers/engine.ts'

const OWNER = fileURLToPath(new URL('./fixtures/pool-owner.ts', import.meta.url))

t.test('kill -9 an executor process: the next executor removes its containers', async (t) => {
  const docker = await engine(t)
  await pythonImage(docker)
  const child = spawnAsUser(process.execPath, ['--conditions=osiris-source', OWNER])
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const lines = createInterface({ input: child.stdout! })
  const [line] = (await once(lines, 'line')) as [string]
  t.match(line, /^ready dev\.osiris\.executor=/)
  const owned = `${LABEL_OWNER_PID}=${child.pid}`
  t.equal((await containersLabelled(docker, owned)).length, 1, 'its warm container is running')
  child.kill('SIGKILL')
  await once(child, 'exit')
  t.equal((await containersLabelled(docker, owned)).length, 1, 'killed without closing, it leaves the container')
  const next = new ContainerExecutor({ runtimes: ['python'], poolTarget: 0, code: async () => '' })
  t.teardown(() => next.close(0))
  await next.ready()
  t.same(await containersLabelled(docker, owned), [], 'the next executor removed it')
})
