// Installed into every generic context before any tenant code exists. It runs
// as a plain script: the host calls the function it evaluates to with a log
// callback, and keeps the returned `bind` only as a host-side reference, so
// tenant code can never reach it. `bind(namespace)` returns the invoker the
// host calls for each call of a function of that module.
;(function bootstrap(log) {
  const parse = JSON.parse
  const stringify = JSON.stringify
  const StringCtor = String

  function text(value) {
    if (typeof value === 'string') return value
    try {
      const json = stringify(value)
      return json === undefined ? StringCtor(value) : json
    } catch {
      return StringCtor(value)
    }
  }
  function writer(level) {
    return (...args) => {
      log(level, args.map(text).join(' '))
    }
  }
  const console = {
    log: writer('info'),
    info: writer('info'),
    debug: writer('debug'),
    warn: writer('warn'),
    error: writer('error'),
  }
  Object.defineProperty(globalThis, 'console', { value: Object.freeze(console), writable: false, configurable: false })

  function describe(error) {
    try {
      if (error !== null && typeof error === 'object') {
        return {
          name: StringCtor(error.name ?? 'Error'),
          message: StringCtor(error.message ?? ''),
          stack: StringCtor(error.stack ?? ''),
        }
      }
      return { name: 'Error', message: text(error), stack: '' }
    } catch {
      return { name: 'Error', message: 'the thrown value could not be read', stack: '' }
    }
  }

  return function bind(namespace) {
    return async function invoke(name, args) {
      const fn = namespace[name]
      if (typeof fn !== 'function') return { missing: true }
      let value
      try {
        value = await fn(...args.map((arg) => parse(arg)))
      } catch (error) {
        return { error: describe(error) }
      }
      try {
        const json = stringify(value)
        return { result: json === undefined ? 'null' : json }
      } catch (error) {
        return { notJson: describe(error).message }
      }
    }
  }
})
