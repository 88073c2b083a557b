// The container section: Osiris runs non-JS runtimes (Python first) in
// containers through the Docker Engine API on its unix socket. Two first calls
// of a new Python function: `docker run` of the Python runtime image per call
// (the docker CLI, as a user would run it), against the Osiris warm generic
// container specialized for the new function (container-fallback's real
// ContainerExecutor, host side: specialize + first call). Each is recorded as
// skipped, with the reason, when no engine answers, the image is missing or
// the docker CLI is not installed; the run goes on either way.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { ContainerExecutor, DockerClient, runtimeSpec } from '@osiris/container-fallback'
import { checkEight } from './cold/source.ts'
import { type Result, type Skipped, sample, summarize, timed } from './measure.ts'

export type Engine = { available: true; socket: string; version: string } | { available: false; reason: string }

export interface Containers {
  engine: Engine
  /** `docker-run`, then `container-warm`: measured, or skipped with the reason. */
  results: Result[]
}

const DOCKER_RUN = ['docker-run', 'Python: `docker run` of the runtime image, per call'] as const
const WARM = ['container-warm', 'Python: Osiris warm generic container, specialized (host side)'] as const

const run = promisify(execFile)
const sha256 = (code: string): string => createHash('sha256').update(code).digest('hex')

/** A Python module whose add_numbers(3, 5) is 8; `salt` makes each one new code. */
function pythonSource(salt: number | string): string {
  return `def add_numbers(a, b):\n    return a + b  # ${salt}\n`
}

/** Asks the engine for its version; never throws. */
async function checkEngine(docker: DockerClient, timeoutMs = 2000): Promise<Engine> {
  try {
    const { Version, ApiVersion } = await docker.version(AbortSignal.timeout(timeoutMs))
    return { available: true, socket: docker.socketPath, version: `Engine ${Version}, API ${ApiVersion}` }
  } catch (error) {
    // DockerClient's message names the socket and what the connection said (ENOENT, ECONNREFUSED, a timeout).
    return { available: false, reason: (error as Error).message }
  }
}

/** `docker run --rm --network none IMAGE python3 -c …` per call: create, start, run, remove. */
async function measureDockerRun(image: string, n: number, warmup: number): Promise<Result> {
  try {
    await run('docker', ['--version'], { timeout: 10_000 })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return { id: DOCKER_RUN[0], label: DOCKER_RUN[1], skipped: `the docker CLI does not run here (${code})` }
  }
  const samples = await sample(n, warmup, (i) =>
    timed(async () => {
      const program = `${pythonSource(`run ${i}`)}print(add_numbers(3, 5))`
      const { stdout } = await run('docker', ['run', '--rm', '--network', 'none', image, 'python3', '-c', program], {
        timeout: 60_000,
      })
      checkEight(stdout.trim(), 'docker run')
    }),
  )
  return summarize(DOCKER_RUN[0], DOCKER_RUN[1], samples)
}

/**
 * The real container executor: each sample deploys (validates) a new
 * function, waits until the warm pool is full again (untimed), then times
 * the first call, which specializes a generic container.
 */
async function measureWarmContainer(socketPath: string, n: number, warmup: number): Promise<Result> {
  const codes = new Map<string, string>()
  const poolTarget = 2
  const executor = new ContainerExecutor({
    runtimes: ['python'],
    socketPath,
    poolTarget,
    code: async (hash) => {
      const code = codes.get(hash)
      if (code === undefined) throw new Error(`code ${hash} should already be kept by validate()`)
      return code
    },
    keepCode: (code) => void codes.set(sha256(code), code),
  })
  const poolFull = async (): Promise<void> => {
    const deadline = performance.now() + 60_000
    while (executor.status().poolReady < poolTarget) {
      if (performance.now() > deadline) throw new Error('the warm container pool did not refill within 60 s')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  try {
    await executor.ready()
    const samples = await sample(n, warmup, async (i) => {
      const version = i + 1000
      const { code } = await executor.validate('python', pythonSource(`warm ${i}`), `m${version}.py`)
      await poolFull()
      let coldStart = false
      const elapsed = await timed(async () => {
        const result = await executor.invoke({
          callId: `c${version}`,
          functionName: 'add_numbers',
          module: `m${version}`,
          version,
          codeHash: sha256(code),
          args: ['3', '5'],
          timeoutMs: 10_000,
        })
        coldStart = result.coldStart
        checkEight(result.result, 'Osiris warm container')
      })
      if (!coldStart) throw new Error('the first call of a new Python function was not a cold start')
      return elapsed
    })
    return summarize(WARM[0], WARM[1], samples)
  } finally {
    await executor.close(0)
  }
}

/** A measurement that fails is recorded as skipped with the reason; the rest of the run goes on. */
async function orSkipped(id: string, label: string, measure: () => Promise<Result>): Promise<Result> {
  try {
    return await measure()
  } catch (error) {
    return { id, label, skipped: `failed: ${(error as Error).message.split('\n')[0]}` }
  }
}

export async function measureContainers(
  n: number,
  warmup: number,
  log: (line: string) => void = () => {},
): Promise<Containers> {
  const docker = new DockerClient()
  const image = runtimeSpec('python')?.image ?? ''
  let engine: Engine
  let reason: string | undefined
  try {
    engine = await checkEngine(docker)
    if (!engine.available) reason = engine.reason
    else if (!(await docker.hasImage(image))) {
      reason = `the engine answers, but image ${image} is missing (build it with: osiris runtime build python)`
    }
  } finally {
    await docker.close()
  }
  if (reason !== undefined) {
    const skipped: Skipped[] = [DOCKER_RUN, WARM].map(([id, label]) => ({ id, label, skipped: reason }))
    return { engine, results: skipped }
  }
  log(`  ${DOCKER_RUN[1]}: ${n} calls`)
  const dockerRun = await orSkipped(DOCKER_RUN[0], DOCKER_RUN[1], () => measureDockerRun(image, n, warmup))
  log(`  ${WARM[1]}: ${n} new functions`)
  const warm = await orSkipped(WARM[0], WARM[1], () => measureWarmContainer(docker.socketPath, n, warmup))
  return { engine, results: [dockerRun, warm] }
}
