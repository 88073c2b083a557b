// Part of the isolate runtime: setTimeout/setInterval and their clears. The
// host keeps the real timers (schedule/cancel callbacks, primitives only) and
// enters the isolate through `fire` when one is due. Timers belong to the call
// that set them: when it ends they are dropped, and a late `fire` for an
// ended call does nothing. Set outside a call (top-level code), they never fire.
import { defineGlobal, MathFloor, MathMax, MathMin, NumberIsFinite } from './common.js'
export function installTimers(global, schedule, cancel, state) {
  let nextId = 0
  function set(callback, delay, args, repeat) {
    if (typeof callback !== 'function') {
      throw new TypeError('setTimeout and setInterval take a function (code strings are not allowed)')
    }
    const id = ++nextId
    const call = state.call
    if (call === null) return id
    if (call.timers.size >= call.maxTimers) {
      throw new RangeError(`too many pending timers: a call may have at most ${call.maxTimers}`)
    }
    const ms = MathMax(0, MathMin(NumberIsFinite(+delay) ? MathFloor(+delay) : 0, 0x7fffffff))
    call.timers.set(id, { callback, args, repeat, ms: repeat ? MathMax(ms, 1) : ms })
    schedule(call.seq, id, repeat ? MathMax(ms, 1) : ms)
    return id
  }
  function clear(id) {
    const call = state.call
    if (call === null || typeof id !== 'number') return
    if (call.timers.delete(id)) cancel(call.seq, id)
  }
  defineGlobal(global, 'setTimeout', function setTimeout(callback, delay, ...args) {
    return set(callback, delay, args, false)
  })
  defineGlobal(global, 'setInterval', function setInterval(callback, delay, ...args) {
    return set(callback, delay, args, true)
  })
  defineGlobal(global, 'clearTimeout', function clearTimeout(id) {
    clear(id)
  })
  defineGlobal(global, 'clearInterval', function clearInterval(id) {
    clear(id)
  })
  /** Runs timer `id` of call `seq` (the host calls this). An uncaught throw is reported, as a browser does. */
  return function fire(seq, id, report) {
    const call = state.call
    if (call === null || call.seq !== seq) return
    const timer = call.timers.get(id)
    if (timer === undefined) return
    if (timer.repeat) schedule(seq, id, timer.ms)
    else call.timers.delete(id)
    try {
      timer.callback(...timer.args)
    } catch (error) {
      report(error)
    }
  }
}
