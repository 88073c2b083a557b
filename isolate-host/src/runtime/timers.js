// Part of the isolate runtime: setTimeout/setInterval and their clears. The
// timers live here; the host holds one real timer per call, for the earliest
// deadline. `schedule(seq, atMs)` (fire-and-forget, primitives) tells the host
// when the earliest deadline moves earlier; the host then calls `fire`, which
// runs every due timer and answers the next deadline. So a loop that sets and
// clears timers costs the host nothing. Timers belong to the call that set
// them: when it ends they are dropped; set outside a call (top-level code),
// they never fire.
import {
  ArrayPush,
  ArraySort,
  defineGlobal,
  MapDelete,
  MapForEach,
  MapGet,
  MapSet,
  MapSize,
  MathFloor,
  MathMax,
  MathMin,
  NumberIsFinite,
  ReflectApply,
  SafeRangeError,
  SafeTypeError,
} from './common.js'

export function installTimers(global, schedule, state, realNow) {
  let nextId = 0
  // Only captured intrinsics below (common.js): what the host is told and
  // when `fire` returns must not depend on built-ins tenant code can replace.
  function earliest(call) {
    let at = -1
    MapForEach(call.timers, (timer) => {
      if (at < 0 || timer.at < at) at = timer.at
    })
    return at
  }
  function set(callback, delay, args, repeat) {
    if (typeof callback !== 'function') {
      throw new SafeTypeError('setTimeout and setInterval take a function (code strings are not allowed)')
    }
    const id = ++nextId
    const call = state.call
    if (call === null) return id
    if (MapSize(call.timers) >= call.maxTimers) {
      throw new SafeRangeError(`too many pending timers: a call may have at most ${call.maxTimers}`)
    }
    const ms = MathMax(repeat ? 1 : 0, MathMin(NumberIsFinite(+delay) ? MathFloor(+delay) : 0, 0x7fffffff))
    const at = realNow() + ms
    MapSet(call.timers, id, { callback, args, repeat, ms, at })
    // `requested`: the deadline the host's timer is armed for (it answers for every earlier one).
    if (call.requested < 0 || at < call.requested) {
      call.requested = at
      schedule(call.seq, at)
    }
    return id
  }
  function clear(id) {
    const call = state.call
    if (call !== null && typeof id === 'number') MapDelete(call.timers, id)
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
    MapForEach(call.timers, (timer, id) => {
      if (timer.at <= now) ArrayPush(due, { id, timer })
    })
    ArraySort(due, (a, b) => a.timer.at - b.timer.at || a.id - b.id)
    for (let i = 0; i < due.length; i++) {
      const id = due[i].id
      const timer = due[i].timer
      if (MapGet(call.timers, id) !== timer) continue
      if (timer.repeat) timer.at = realNow() + timer.ms
      else MapDelete(call.timers, id)
      try {
        ReflectApply(timer.callback, undefined, timer.args)
      } catch (error) {
        report(error)
      }
    }
    call.requested = state.call === call ? earliest(call) : -1
    return call.requested
  }
}
