// What the figures were measured on: CPU model and cores (from /proc/cpuinfo
// where there is one), memory, OS, Node, and the versions of isolated-vm and
// workerd, plus the git commit of the tree measured.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { workerdInfo } from './peer/workerd-server.ts'

export interface Environment {
  cpuModel: string
  cores: number
  memoryGiB: number
  os: string
  node: string
  v8: string
  isolatedVm: string
  workerd: string
  commit: string
  /** 1, 5 and 15 minute load averages when the run started: how busy the machine was (absent in early results). */
  loadAverage?: number[]
}

const require = createRequire(import.meta.url)

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (m?.[1]) return m[1].trim()
  } catch {}
  return os.cpus()[0]?.model ?? 'unknown'
}

function commit(): string {
  try {
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim()
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    return dirty ? `${head} (with uncommitted changes)` : head
  } catch {
    return 'unknown'
  }
}

function workerdVersion(): string {
  try {
    const { bin, npmVersion } = workerdInfo()
    const binary = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()
    return `${npmVersion} (${binary})`
  } catch (error) {
    return `unavailable: ${(error as Error).message}`
  }
}

export function environment(): Environment {
  return {
    cpuModel: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    isolatedVm: (require('isolated-vm/package.json') as { version: string }).version,
    workerd: workerdVersion(),
    commit: commit(),
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
  }
}
