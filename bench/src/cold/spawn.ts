// Cold start of a process: spawn this same Node binary, which evaluates
// addNumbers(3, 5) and prints it; timed until its output arrives. (What a
// CGI-style or fork-per-request runtime pays.)
import { spawn } from 'node:child_process'
import { type Measurement, now, sample, summarize } from '../measure.ts'
import { childEnv } from '../processes.ts'
import { checkEight, scriptSource } from './source.ts'

export async function measureSpawn(n: number, warmup: number): Promise<Measurement> {
  const samples = await sample(n, warmup, async (i) => {
    const started = now()
    const child = spawn(
      process.execPath,
      ['-e', `process.stdout.write(String(eval(${JSON.stringify(scriptSource(`p ${i}`))})))`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: childEnv(),
      },
    )
    const value = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
      child.stdout.once('end', () => resolve(out))
      child.once('error', reject)
    })
    const elapsed = now() - started
    checkEight(value, 'child_process')
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)))
    return elapsed
  })
  return summarize('spawn', 'child_process spawn of node', samples)
}
