// The isolate runtime's source: the parts in runtime/ joined, in order, into
// one strict-mode function expression, so they share private state that no
// global points to. The parts are written as ES modules (so tools see what
// each uses); their import lines and export keywords are dropped here. A
// generic isolate compiles this once and calls it with the host callbacks
// (runtime-host.ts); see runtime/bootstrap.js for what it returns.
import { readFileSync } from 'node:fs'

const PARTS = [
  'common.js',
  'inspect.js',
  'json.js',
  'lockdown.js',
  'clock.js',
  'console.js',
  'timers.js',
  'encoding.js',
  'url.js',
  'clone.js',
  'crypto.js',
  'fetch.js',
  'bootstrap.js',
] as const

const IMPORT = /^import\s[^;]*?\sfrom\s+'[^']+'$/gm
const EXPORT = /^export /gm

function load(): string {
  const read = (part: string): string => readFileSync(new URL(`./runtime/${part}`, import.meta.url), 'utf8')
  const body = PARTS.map((part) => read(part).replace(IMPORT, '').replace(EXPORT, '')).join('\n')
  return `(function osirisRuntime(log, schedule, random, urlParse, fetch) {\n'use strict';\n${body}\nreturn main(log, schedule, random, urlParse, fetch)\n})`
}

/** Evaluates to `(log, schedule, random, urlParse, fetch) → [bind, fire, deliver]`. */
export const RUNTIME_SOURCE = load()
