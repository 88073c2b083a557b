// Part of the isolate runtime: the clock tenant code sees. During a call,
// Date.now() and new Date() read a clock the host sets each time it enters
// the isolate (the call starting, timers firing, a fetch answered): time does
// not advance during a stretch of computation, so a function cannot time its
// own code (Spectre hygiene, as Cloudflare Workers do). Top-level code at
// load sees real time to the whole second. There is no performance.now().
import { defineGlobal, defineMethod, objectDefine } from './common.js'
export function installClock(global, clock) {
  const RealDate = global.Date
  const construct = Reflect.construct
  const dateToString = RealDate.prototype.toString
  function TamedDate(...args) {
    if (new.target === undefined) return dateToString.call(construct(RealDate, [clock.now]))
    return construct(RealDate, args.length === 0 ? [clock.now] : args, new.target)
  }
  objectDefine(TamedDate, 'name', { value: 'Date' })
  objectDefine(TamedDate, 'prototype', { value: RealDate.prototype })
  objectDefine(TamedDate, 'length', { value: 7 })
  defineMethod(TamedDate, 'UTC', RealDate.UTC)
  defineMethod(TamedDate, 'parse', RealDate.parse)
  defineMethod(TamedDate, 'now', function now() {
    return clock.now
  })
  defineMethod(RealDate.prototype, 'constructor', TamedDate)
  defineGlobal(global, 'Date', TamedDate)
}
