// The process's one place for SIGINT/SIGTERM: run the registered shutdown
// steps once, in reverse order, then let the process end. A second signal
// forces the exit, unless it comes within REPEAT_MS of the first: Ctrl-C
// under `npm start` or `npx` reaches this process twice at once, from the
// terminal (to the whole process group) and from npm passing its own on.
const steps: Array<() => Promise<void>> = []
/** When the first signal came (performance.now()); undefined until then. */
let stoppingSince: number | undefined

/** A signal this soon after the first is the same one relayed, not a second request, ms. */
const REPEAT_MS = 1000

/** After a clean shutdown, how long anything left holding the event loop may delay the exit, ms. */
const EXIT_GRACE_MS = 2000

async function shutdown(signal: NodeJS.Signals | 'disconnect'): Promise<void> {
  if (stoppingSince !== undefined) {
    if (signal === 'disconnect' || performance.now() - stoppingSince < REPEAT_MS) return
    process.stderr.write(`${signal} again: exiting now\n`)
    process.exit(1)
  }
  stoppingSince = performance.now()
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
