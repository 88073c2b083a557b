// Part of the isolate runtime: setTimeout/setInterval and their clears. The
// timers live here; the host holds one real timer per call, for the earliest
// deadline. `schedule(seq, atMs)` (fire-and-forget, primitives) tells the host
// when the earliest deadline moves earlier; the host then calls `fire`, which
// runs every due timer and answers the next deadline. So a loop that sets and
// clears timers costs the host nothing. Timers belong to the call that set
// them: when it ends they are dropped; set outside a call (top-level code),
// they never fire.
import { defineGlobal, MathFloor, MathMax, MathMin, NumberIsFinite } from './common.js'

export function installTimers(global, schedule, state, realNow) {
  let nextId = 0
  function earliest(call) {
    let at = -1
    for (const timer of call.timers.values()) if (at < 0 || timer.at < at) at = timer.at
    return at
  }
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
    const ms = MathMax(repeat ? 1 : 0, MathMin(NumberIsFinite(+delay) ? MathFloor(+delay) : 0, 0x7fffffff))
    const at = realNow() + ms
    call.timers.set(id, { callback, args, repeat, ms, at })
    // `requested`: the deadline the host's timer is armed for (it answers for every earlier one).
    if (call.requested < 0 || at < call.requested) {
      call.requested = at
      schedule(call.seq, at)
    }
    return id
  }
  function clear(id) {
    const call = state.call
    if (call !== null && typeof id === 'number') call.timers.delete(id)
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
  /**
   * Runs the due timers of call `seq` in deadline order (the host calls this)
   * and answers the next deadline, or -1. An uncaught throw is reported, as a browser does.
   */
  return function fire(seq, report) {
    const call = state.call
    if (call === null || call.seq !== seq) return -1
    const due = []
    const now = realNow()
    for (const [id, timer] of call.timers) if (timer.at <= now) due.push([id, timer])
    due.sort((a, b) => a[1].at - b[1].at || a[0] - b[0])
    for (const [id, timer] of due) {
      if (call.timers.get(id) !== timer) continue
      if (timer.repeat) timer.at = realNow() + timer.ms
      else call.timers.delete(id)
      const { callback, args } = timer
      try {
        callback(...args)
      } catch (error) {
        report(error)
      }
    }
    call.requested = state.call === call ? earliest(call) : -1
    return call.requested
  }
}
