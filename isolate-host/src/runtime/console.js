// Part of the isolate runtime: `console`. Lines go to the host through the
// log callback (strings only, fire-and-forget). Output is bounded per call:
// past the budget one marker line is written and the rest is dropped.
import { defineMethod, jsonStringify, objectDefine, StringCtor, utf8Length, utf8Prefix } from './common.js'
export function installConsole(global, log, state) {
  function text(value) {
    if (typeof value === 'string') return value
    try {
      const json = jsonStringify(value)
      return json === undefined ? StringCtor(value) : json
    } catch {
      try {
        return StringCtor(value)
      } catch {
        return '[value that cannot be printed]'
      }
    }
  }
  function write(level, args) {
    const budget = state.log
    if (budget.truncated) return
    let line = ''
    for (let i = 0; i < args.length; i++) {
      line += (i === 0 ? '' : ' ') + text(args[i])
      if (line.length > budget.left) break
    }
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
