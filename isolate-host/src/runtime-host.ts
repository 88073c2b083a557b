// The host side of the runtime's callbacks that do work here rather than in
// the isolate: entropy and URL parsing. Both take and answer primitives only
// (strings, numbers, an array of strings): nothing of the host's is handed in.
import { randomFillSync } from 'node:crypto'

const URL_PARTS = [
  'href',
  'origin',
  'protocol',
  'username',
  'password',
  'host',
  'hostname',
  'port',
  'pathname',
  'search',
  'hash',
] as const
const URL_SETTERS: ReadonlySet<string> = new Set(URL_PARTS.filter((p) => p !== 'origin'))
const MAX_RANDOM_BYTES = 65536
const MAX_URL_LENGTH = 1 << 20

/** `n` random bytes as a string of char codes 0–255 (cheap to copy into the isolate). */
export function randomBytes(n: unknown): string {
  const size = typeof n === 'number' && Number.isInteger(n) && n > 0 ? Math.min(n, MAX_RANDOM_BYTES) : 0
  return Buffer.from(randomFillSync(new Uint8Array(size))).toString('latin1')
}

function parts(url: URL): string[] {
  return URL_PARTS.map((name) => url[name])
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= MAX_URL_LENGTH ? value : undefined
}

/**
 * Parses `input` (against `base`), or, with `part`, parses `input` and sets
 * `part` to `value`. Answers the URL's parts in URL_PARTS order, or null when
 * the input is not a URL. The WHATWG parser here is Node's (ada).
 */
export function urlParse(input: unknown, base: unknown, part?: unknown, value?: unknown): string[] | null {
  const href = text(input)
  if (href === undefined) return null
  if (part === undefined) {
    const parsed = URL.parse(href, text(base))
    return parsed ? parts(parsed) : null
  }
  const url = URL.parse(href)
  const next = text(value)
  if (!url || typeof part !== 'string' || !URL_SETTERS.has(part) || next === undefined) return null
  if (part === 'href') {
    const replaced = URL.parse(next)
    return replaced ? parts(replaced) : null
  }
  ;(url as unknown as Record<string, string>)[part] = next
  return parts(url)
}
