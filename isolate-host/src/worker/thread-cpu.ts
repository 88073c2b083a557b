// Which threads of a process keep running, from /proc/PID/task/TID/stat (the
// scheduler state) and schedstat (nanoseconds on a CPU): to tell whether work
// a limit stopped has really stopped. A builtin V8 cannot interrupt keeps its
// thread runnable throughout; on a loaded machine it may get little CPU, so
// the state counts, not a share of a core.
import { readdirSync, readFileSync } from 'node:fs'

interface ThreadSample {
  runnable: boolean
  cpuNs: number
}

/** One reading of every thread of `pid`; empty where /proc cannot be read. */
export function sampleThreads(pid: number): Map<string, ThreadSample> {
  const threads = new Map<string, ThreadSample>()
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return threads
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      // The state follows the command name, which is in parentheses and may hold anything.
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      const cpuNs = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      threads.set(tid, { runnable: state === 'R', cpuNs: Number.isFinite(cpuNs) ? cpuNs : 0 })
    } catch {}
  }
  return threads
}

/**
 * Threads of `pid` runnable at every one of `samples` readings `everyMs` apart
 * that also ran in between: busy throughout, not waiting on anything.
 */
export async function threadsBusyThroughout(pid: number, samples: number, everyMs: number): Promise<number> {
  const first = sampleThreads(pid)
  let busy = new Set([...first].filter(([, s]) => s.runnable).map(([tid]) => tid))
  let last = first
  for (let i = 1; i < samples && busy.size > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, everyMs))
    const now = sampleThreads(pid)
    busy = new Set([...busy].filter((tid) => now.get(tid)?.runnable === true))
    last = now
  }
  return [...busy].filter((tid) => (last.get(tid)?.cpuNs ?? 0) > (first.get(tid)?.cpuNs ?? 0)).length
}
