#!/usr/bin/env -S node --no-node-snapshot --conditions=osiris-source
// The `osiris` command. It needs Node 24 with --no-node-snapshot (isolated-vm);
// under npm scripts and npx the project's own Node 24 is first on PATH. When
// started by an older Node anyway, it re-runs itself on the project's Node 24.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const major = Number(process.versions.node.split('.')[0])
const flagged = process.execArgv.includes('--no-node-snapshot')

if (major >= 24 && flagged) {
  await import(main)
} else {
  const node =
    major >= 24
      ? process.execPath
      : join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node')
  const child = spawn(node, ['--no-node-snapshot', '--conditions=osiris-source', main, ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}
