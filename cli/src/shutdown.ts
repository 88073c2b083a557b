// The process's one place for SIGINT/SIGTERM: run the registered shutdown
// steps once, in reverse order, then exit. A second signal forces the exit.
const steps: Array<() => Promise<void>> = []
let stopping = false

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    process.stderr.write(`${signal} again: exiting now\n`)
    process.exit(1)
  }
  stopping = true
  let code = 0
  for (const step of steps.reverse()) {
    try {
      await step()
    } catch (error) {
      code = 1
      process.stderr.write(`shutdown: ${(error as Error).message}\n`)
    }
  }
  process.exit(code)
}

export function onShutdown(step: () => Promise<void>): void {
  if (steps.length === 0) {
    process.on('SIGINT', (s) => void shutdown(s))
    process.on('SIGTERM', (s) => void shutdown(s))
    // Started by a supervisor (`osiris start`): its end is ours too.
    if (process.send) process.on('disconnect', () => void shutdown('SIGTERM'))
  }
  steps.push(step)
}
