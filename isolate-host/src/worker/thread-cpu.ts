// CPU time of each thread of a process, from /proc/PID/task/TID/schedstat
// (nanoseconds on a CPU), to tell whether work a limit stopped has really
// stopped: a builtin V8 cannot interrupt keeps its thread busy.
import { readdirSync, readFileSync } from 'node:fs'

/** Nanoseconds on a CPU so far, by thread id; empty where /proc cannot be read. */
export type ThreadTimes = Map<string, number>

export function threadTimes(pid: number): ThreadTimes {
  const times: ThreadTimes = new Map()
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return times
  }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      if (Number.isFinite(ns)) times.set(tid, ns)
    } catch {}
  }
  return times
}

/** Threads that spent at least `busyMs` on a CPU between two readings. */
export function busyThreads(before: ThreadTimes, after: ThreadTimes, busyMs: number): number {
  let busy = 0
  for (const [tid, ns] of after) {
    if (ns - (before.get(tid) ?? ns) >= busyMs * 1e6) busy++
  }
  return busy
}
