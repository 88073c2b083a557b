// Least privilege for isolate workers, as far as this host may go: an
// unprivileged user (nobody), a network namespace of their own (no interface
// but a down loopback: the host carries out fetches), and an OS memory cap per
// worker (a cgroup v1 memory group, or v2 where that is mounted). Each needs
// root (CAP_SYS_ADMIN, CAP_SETUID); what the host cannot do it says once at
// start and carries on without. The pieces are util-linux's own tools,
// chained by exec so no extra process stays behind:
//   sh -c 'echo $$ > CGROUP/cgroup.procs && exec "$@"' … unshare --net -- setpriv --reuid … -- node worker-main.ts
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** What the host could arrange for its workers. */
export interface SandboxPlan {
  /** uid and gid workers run as, when the host may switch user. */
  user: { uid: number; gid: number } | undefined
  /** Workers get a network namespace of their own (no network). */
  netns: boolean
  /** Directory of this host's worker memory groups, when it may make them. */
  cgroup: { dir: string; version: 1 | 2 } | undefined
  /** One line per missing privilege, said once at start. */
  missing: string[]
}

/** The unprivileged account workers run as. */
const NOBODY = { uid: 65534, gid: 65534 }

/** Whether `command args` runs and exits 0 (asynchronously: the host's event loop keeps serving). */
function works(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 5000 }, (error) => resolve(error === null))
  })
}

/** Finds out, once, what this host may do for its workers (two tiny processes, run at once). */
export async function planSandbox(hostTag: string): Promise<SandboxPlan> {
  const missing: string[] = []
  const root = process.getuid?.() === 0
  const [setpriv, netns] = root
    ? await Promise.all([
        works('setpriv', ['--reuid', String(NOBODY.uid), '--regid', String(NOBODY.gid), '--clear-groups', 'true']),
        works('unshare', ['--net', 'true']),
      ])
    : [false, false]
  if (!setpriv) missing.push('workers run as this user (switching to nobody needs root and setpriv)')
  if (!netns) missing.push('workers share the host network namespace (unshare --net needs root)')
  const cgroup = root ? makeCgroupDir(hostTag) : undefined
  if (!cgroup) missing.push('workers have no OS memory cap (no writable cgroup memory controller)')
  return { user: setpriv ? NOBODY : undefined, netns, cgroup, missing }
}

function makeCgroupDir(hostTag: string): SandboxPlan['cgroup'] {
  const candidates: [string, 1 | 2][] = [
    ['/sys/fs/cgroup/memory', 1],
    ['/sys/fs/cgroup', 2],
  ]
  for (const [base, version] of candidates) {
    const marker = version === 1 ? join(base, 'memory.limit_in_bytes') : join(base, 'cgroup.controllers')
    if (!existsSync(marker)) continue
    if (version === 2 && !readFileSync(marker, 'utf8').split(/\s+/).includes('memory')) continue
    sweepStale(base)
    try {
      const dir = join(base, `osiris-${hostTag}`)
      mkdirSync(dir, { recursive: true })
      if (version === 2) {
        writeFileSync(join(base, 'cgroup.subtree_control'), '+memory')
        writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory')
      }
      return { dir, version }
    } catch {}
  }
  return undefined
}

/** Removes the (empty) memory groups of hosts that are gone without closing (killed). */
function sweepStale(base: string): void {
  for (const entry of readdirSync(base)) {
    const pid = /^osiris-(\d+)$/.exec(entry)?.[1]
    if (!pid || existsSync(`/proc/${pid}`)) continue
    const dir = join(base, entry)
    try {
      for (const worker of readdirSync(dir)) if (worker.startsWith('worker-')) rmdirSync(join(dir, worker))
      rmdirSync(dir)
    } catch {}
  }
}

/**
 * The command that runs `argv` as worker `name` under the plan: its memory
 * group made and capped at `memoryMb`, joined before the program starts.
 */
export function sandboxedCommand(plan: SandboxPlan, name: string, memoryMb: number, argv: string[]): string[] {
  let command = argv
  if (plan.user) {
    const { uid, gid } = plan.user
    command = [
      'setpriv',
      '--reuid',
      String(uid),
      '--regid',
      String(gid),
      '--clear-groups',
      '--no-new-privs',
      '--',
      ...command,
    ]
  }
  if (plan.netns) command = ['unshare', '--net', '--', ...command]
  const group = plan.cgroup && workerCgroup(plan.cgroup, name, memoryMb)
  if (group) command = ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', join(group, 'cgroup.procs'), ...command]
  // Whatever put NODE_OPTIONS into the spawn (a test runner's process tracking does) stays out of the worker.
  return ['env', '-u', 'NODE_OPTIONS', ...command]
}

function workerCgroup(cgroup: NonNullable<SandboxPlan['cgroup']>, name: string, memoryMb: number): string | undefined {
  const dir = join(cgroup.dir, name)
  try {
    mkdirSync(dir, { recursive: true })
    const bytes = String(memoryMb * 1024 * 1024)
    if (cgroup.version === 1) {
      writeFileSync(join(dir, 'memory.limit_in_bytes'), bytes)
      // No swap to spill into: at the cap the kernel ends the worker, not the machine's other work.
      try {
        writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), bytes)
      } catch {}
    } else {
      writeFileSync(join(dir, 'memory.max'), bytes)
      writeFileSync(join(dir, 'memory.swap.max'), '0')
    }
    return dir
  } catch {
    return undefined
  }
}

/** Whether the kernel ended a worker for its memory cap (v1: failcnt / oom_control; v2: memory.events). */
export function cgroupOomKilled(plan: SandboxPlan, name: string): boolean {
  if (!plan.cgroup) return false
  const dir = join(plan.cgroup.dir, name)
  try {
    if (plan.cgroup.version === 1) return /oom_kill [1-9]/.test(readFileSync(join(dir, 'memory.oom_control'), 'utf8'))
    return /oom_kill [1-9]/.test(readFileSync(join(dir, 'memory.events'), 'utf8'))
  } catch {
    return false
  }
}

/** Removes a worker's memory group (its process gone), so the next one starts with clean counters. */
export function removeWorkerCgroup(plan: SandboxPlan, name: string): void {
  if (!plan.cgroup) return
  try {
    rmdirSync(join(plan.cgroup.dir, name))
  } catch {}
}

/** Removes this host's memory groups once its workers are gone. */
export function removeSandbox(plan: SandboxPlan): void {
  if (!plan.cgroup) return
  try {
    rmdirSync(plan.cgroup.dir)
  } catch {}
}
