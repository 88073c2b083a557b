// Part of the isolate runtime: the clock tenant code sees. Date.now() and
// new Date() read real time to 10 ms (Spectre hygiene: no clock here is
// finer; there is no performance.now() and no SharedArrayBuffer, and no
// threads to build a timer from). Time still advances during computation, so
// `while (Date.now() < end) {}` ends, as code written for Node expects.
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
