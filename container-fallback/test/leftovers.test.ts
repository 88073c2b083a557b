// An executor process killed without closing: its idle containers go away by
// themselves (their shim sees the socket close and exits; containers are
// auto-removed), and one still busy in a call is removed by the next executor
// that starts on the engine.
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ContainerExecutor } from '@osiris/container-fallback'
import t from 'tap'
import { spawnAsUser } from '../../cli/test/helpers/platform.ts'
import { LABEL_OWNER_PID } from '../src/container.ts'
import { containersLabelled, engine, eventually, pythonImage } from './helpers/engine.ts'

const OWNER = fileURLToPath(new URL('./fixtures/pool-owner.ts', import.meta.url))

t.test(
  'kill -9 an executor process: idle containers leave, the busy one is removed by the next executor',
  async (t) => {
    const docker = await engine(t)
    await pythonImage(docker)
    const child = spawnAsUser(process.execPath, ['--conditions=osiris-source', OWNER])
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    const lines = createInterface({ input: child.stdout! })
    const [line] = (await once(lines, 'line')) as [string]
    const busy = /^ready (\S+)$/.exec(line)?.[1] ?? ''
    t.ok(busy, `the spinning container: ${line}`)
    const owned = `${LABEL_OWNER_PID}=${child.pid}`
    const ids = async (): Promise<string[]> => (await docker.listContainers([owned])).map((c) => c.Id)
    t.equal((await ids()).length, 2, 'a warm generic container and a busy one')
    child.kill('SIGKILL')
    await once(child, 'exit')
    await eventually(async () => (await ids()).join() === busy, 'the idle container removing itself')
    t.pass('the idle container went away by itself; the busy one is still there')
    const next = new ContainerExecutor({ runtimes: ['python'], poolTarget: 0, code: async () => '' })
    t.teardown(() => next.close(0))
    await next.ready()
    t.same(await containersLabelled(docker, owned), [], 'the next executor removed it')
    t.notOk(existsSync(join(next.options.runDir, String(child.pid))), "and the dead process's socket directories")
  },
)
