// Part of the isolate runtime, run last: installs every global and returns
// the entry points the host keeps as references (nothing in the globals
// points to them, so tenant code can never reach them):
//   bind(namespace) → invoke(name, argsJson[], seq, limits) → outcome
//   fire(seq) → next  runs the due timers of call `seq`, answers the next deadline (ms) or -1
//   deliver(seq, id, answer)  hands fetch `id` of call `seq` its answer
// An outcome is one string, so nothing but a primitive crosses back to the
// host: 'R' + result JSON | 'E' + `${name.length}:${message.length}:` + name +
// message + stack (what was thrown) | 'N' + why the
// result is not JSON | 'L' (the result is over its size limit) | 'D' + depth (it nests deeper
// than its limit) | 'M' (no such function).
// invoke called again with the seq of the call in progress answers that
// call's outcome rather than starting another: isolated-vm fails the task
// that started a call when a promise rejection is left unhandled in it, and
// the host then asks again (instance.ts), so the call's own outcome stands.

import { installClock } from './clock.js'
import { installClone } from './clone.js'
import {
  jsonParse,
  jsonStringify,
  MapClear,
  MathFloor,
  ReflectApply,
  SafeMap,
  StringCtor,
  StringSlice,
  utf8Length,
} from './common.js'
import { installConsole } from './console.js'
import { installCrypto } from './crypto.js'
import { installEncoding } from './encoding.js'
import { installFetch } from './fetch.js'
import { installInspect } from './inspect.js'
import { installJson } from './json.js'
import { installLockdown } from './lockdown.js'
import { installTimers } from './timers.js'
import { installUrl } from './url.js'
export function main(log, schedule, random, urlParse, fetch) {
  const global = globalThis
  const DEFAULT_LOG_BYTES = 64 * 1024
  const state = { call: null, log: { left: DEFAULT_LOG_BYTES, max: DEFAULT_LOG_BYTES, truncated: false } }
  const realNow = Date.now
  const CLOCK_RESOLUTION_MS = 10
  const clock = {
    /** What Date sees: real time, to CLOCK_RESOLUTION_MS (see runtime/clock.js). */
    get now() {
      return MathFloor(realNow() / CLOCK_RESOLUTION_MS) * CLOCK_RESOLUTION_MS
    },
  }
  const { inspect, formatArgs } = installInspect()
  const encodeJson = installJson()
  installLockdown(global)
  installClock(global, clock)
  installConsole(global, log, state, formatArgs)
  const fire = installTimers(global, schedule, state, realNow)
  installEncoding(global)
  installUrl(global, urlParse)
  installClone(global)
  installCrypto(global, random)
  const deliver = installFetch(global, fetch, state)

  function cut(value, max) {
    const text = StringCtor(value)
    return text.length > max ? `${StringSlice(text, 0, max)}…` : text
  }
  function describe(error) {
    try {
      if (error !== null && typeof error === 'object') {
        return [cut(error.name ?? 'Error', 200), cut(error.message ?? '', 8192), cut(error.stack ?? '', 16384)]
      }
      return ['Error', cut(typeof error === 'string' ? error : (jsonStringify(error) ?? StringCtor(error)), 8192), '']
    } catch {
      return ['Error', 'the thrown value could not be read', '']
    }
  }
  /** An error nobody caught, logged at level error with its stack, as Node and browsers print it. */
  function report(error, what = 'Uncaught') {
    state.error(`${what} ${inspect(error, state.log.left + 1)}`)
  }

  function encodeResult(value, maxBytes, maxDepth) {
    let tagged
    try {
      tagged = encodeJson(value, 'result', maxBytes, maxDepth)
    } catch (error) {
      // A getter, toJSON or Proxy trap of the result threw.
      return `N${describe(error)[1]}`
    }
    if (tagged[0] !== 'R') return tagged
    // Nesting and size are measured again by the host (result-json.ts), out of tenant code's reach.
    return utf8Length(StringSlice(tagged, 1), maxBytes) > maxBytes ? 'L' : tagged
  }

  /** 'E' outcome of a thrown value: what tenant code threw, or what tenant code broke in the runtime. */
  function thrown(error) {
    const described = describe(error)
    const errorName = described[0]
    const message = described[1]
    return `E${errorName.length}:${message.length}:${errorName}${message}${described[2]}`
  }

  // invoke always answers an outcome string: whatever tenant code throws or
  // breaks (a built-in it replaced, a getter on what it returned) ends as 'E',
  // never as a rejection the host would have to tell from its own failures.
  // Only the captured intrinsics of common.js are used here.
  function bind(namespace) {
    let current = { seq: -1, outcome: undefined }
    async function run(name, args, seq, limits) {
      const maxResultBytes = limits[0]
      const maxResultDepth = limits[1]
      const maxLogBytes = limits[2]
      const maxTimers = limits[3]
      state.log = { left: maxLogBytes, max: maxLogBytes, truncated: false }
      const call = { seq, timers: new SafeMap(), maxTimers, requested: -1, fetches: new SafeMap() }
      state.call = call
      try {
        const fn = namespace[name]
        if (typeof fn !== 'function') return 'M'
        const parsed = []
        for (let i = 0; i < args.length; i++) parsed[i] = jsonParse(args[i])
        let value
        try {
          value = await ReflectApply(fn, undefined, parsed)
        } catch (error) {
          report(error)
          return thrown(error)
        }
        return encodeResult(value, maxResultBytes, maxResultDepth)
      } catch (error) {
        return thrown(error)
      } finally {
        if (state.call === call) state.call = null
        MapClear(call.timers)
        MapClear(call.fetches)
      }
    }
    return function invoke(name, args, seq, limits) {
      if (current.seq === seq) return current.outcome
      const outcome = run(name, args, seq, limits)
      current = { seq, outcome }
      return outcome
    }
  }

  // Compiles invoke, the result encoding and console formatting now, in the warm pool, not on a cold start's first call.
  formatArgs(['warm', { list: [1, 'two'], nested: { ok: true } }], 256)
  bind({ warm: () => ({ list: [1, 'two'], nested: { ok: true } }) })('warm', ['1'], 0, [1024, 8, 0, 0]).then(() => {
    state.log = { left: DEFAULT_LOG_BYTES, max: DEFAULT_LOG_BYTES, truncated: false }
  })

  return [
    bind,
    function fireTimers(seq) {
      return fire(seq, report)
    },
    deliver,
  ]
}
