// The process's one place for SIGINT/SIGTERM: run the registered shutdown
// steps once, in reverse order, then let the process end. A second signal
// forces the exit.
const steps: Array<() => Promise<void>> = []
let stopping = false

/** After a clean shutdown, how long anything left holding the event loop may delay the exit, ms. */
const EXIT_GRACE_MS = 2000

async function shutdown(signal: NodeJS.Signals | 'disconnect'): Promise<void> {
  if (stopping) {
    if (signal === 'disconnect') return
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
  // Ending by draining the event loop rather than process.exit(): exiting
  // while an isolate thread is still inside a V8 builtin can crash in
  // isolated-vm's teardown. A handle left open only delays the exit.
  process.exitCode = code
  if (process.connected) process.disconnect()
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref()
}

export function onShutdown(step: () => Promise<void>): void {
  if (steps.length === 0) {
    process.on('SIGINT', (s) => void shutdown(s))
    process.on('SIGTERM', (s) => void shutdown(s))
    // Started by a supervisor (`osiris start`): its end is ours too.
    if (process.send) process.on('disconnect', () => void shutdown('disconnect'))
  }
  steps.push(step)
}
