// The second runtime, which is only data and a shim: any #! executable, JSON
// arguments on stdin, JSON result on stdout, in the python image's containers.
import { ContainerExecutor } from '@osiris/container-fallback'
import { OsirisError } from '@osiris/proto'
import t from 'tap'
import { CodeCache } from '../../isolate-host/src/code-cache.ts'
import { engine, pythonImage } from './helpers/engine.ts'

const SCRIPT = `#!/bin/sh
# osiris: params a b
read -r args
echo "got $args" >&2
echo "{\\"args\\": $args}"
`

t.test('an executable module: parameters from its header, JSON in and out, stderr as log', async (t) => {
  const docker = await engine(t)
  await pythonImage(docker)
  const cache = new CodeCache(async (hash) => {
    throw new OsirisError('NOT_FOUND', `no code ${hash}`)
  }, 1 << 20)
  const logs: string[] = []
  const executor = new ContainerExecutor({
    runtimes: ['exec'],
    poolTarget: 1,
    code: (hash) => cache.get(hash),
    keepCode: (code) => void cache.put(code),
    onLog: (entry) => logs.push(`${entry.level} ${entry.functionName}: ${entry.line}`),
  })
  t.teardown(() => executor.close(0))
  const { functions, code } = await executor.validate('exec', SCRIPT, 'pair.run')
  t.same(functions, [
    {
      name: 'pair',
      params: [
        { name: 'a', optional: false, rest: false },
        { name: 'b', optional: false, rest: false },
      ],
    },
  ])
  const result = await executor.invoke({
    callId: 'c1',
    functionName: 'pair',
    module: 'pair',
    version: 1,
    codeHash: cache.put(code),
    args: ['1', '{"k":[2]}'],
    timeoutMs: 10_000,
    runtime: 'exec',
  })
  t.same(JSON.parse(result.result), { args: [1, { k: [2] }] })
  t.same(logs, ['error pair: got [1,{"k":[2]}]'])
  // A busy executable is stopped by its CPU-time limit; the container stays and serves the next call.
  const busy = await executor.validate('exec', '#!/bin/sh\nwhile :; do :; done\n', 'busy.run')
  const spun = await executor
    .invoke({
      callId: 'c2',
      functionName: 'busy',
      module: 'busy',
      version: 2,
      codeHash: cache.put(busy.code),
      args: [],
      timeoutMs: 10_000,
      limits: { cpuMs: 300 },
      runtime: 'exec',
    })
    .catch((e: unknown) => e)
  t.ok(spun instanceof OsirisError)
  t.equal((spun as OsirisError).code, 'DEADLINE_EXCEEDED')
  t.equal((spun as OsirisError).message, 'function "busy" used more than 300 ms of CPU time')
  const error = await executor.validate('exec', 'echo hi\n', 'nohashbang.run').catch((e: unknown) => e)
  t.ok(error instanceof OsirisError)
  t.equal((error as OsirisError).code, 'COMPILE_ERROR')
  t.match((error as OsirisError).message, /nohashbang\.run does not compile: .*#!.*\(line 1, column 1\)/)
})
