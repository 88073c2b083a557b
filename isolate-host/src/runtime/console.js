// Part of the isolate runtime: `console`. Arguments are formatted as Node's
// console does (inspect.js); lines go to the host through the log callback
// (strings only, fire-and-forget). Output is bounded per call: past the
// budget one marker line is written and the rest is dropped.
import { defineMethod, objectDefine, utf8Length, utf8Prefix } from './common.js'
export function installConsole(global, log, state, formatArgs) {
  function write(level, args) {
    const budget = state.log
    if (budget.truncated) return
    // Formatting stops a little past what the budget can still take, so a huge value costs no more.
    const line = formatArgs(args, budget.left + 1)
    const size = utf8Length(line, budget.left) + 1
    if (size <= budget.left) {
      budget.left -= size
      log(level, line)
      return
    }
    budget.truncated = true
    const head = budget.left > 1 ? utf8Prefix(line, budget.left - 1) : ''
    if (head.length > 0) log(level, head)
    log('warn', `[osiris] console output truncated: more than ${budget.max} bytes in this call`)
  }
  /** One line written as `console.error` would, within the same budget (uncaught errors, stray rejections). */
  state.error = (line) => write('error', [line])
  const console = {}
  const levels = { log: 'info', info: 'info', debug: 'debug', trace: 'debug', warn: 'warn', error: 'error' }
  for (const name of ['log', 'info', 'debug', 'trace', 'warn', 'error']) {
    const level = levels[name]
    defineMethod(
      console,
      name,
      {
        [name](...args) {
          write(level, args)
        },
      }[name],
    )
  }
  objectDefine(global, 'console', { value: Object.freeze(console), writable: false, configurable: false })
}
