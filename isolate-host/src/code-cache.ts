// Function code held by this host, by content hash (sha256, hex). Misses are
// fetched from the controller once, however many calls wait for them, and
// checked against their hash before use.
import { createHash } from 'node:crypto'
import { OsirisError } from '@osiris/proto'
import { LRUCache } from 'lru-cache'

export type FetchCode = (hash: string, signal: AbortSignal) => Promise<string>

export function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('hex')
}

export class CodeCache {
  readonly #cache: LRUCache<string, string>

  /** `maxBytes`: total size of cached code (UTF-16 length as the measure). */
  constructor(fetchCode: FetchCode, maxBytes: number) {
    this.#cache = new LRUCache<string, string>({
      maxSize: maxBytes,
      sizeCalculation: (code) => Math.max(1, code.length),
      fetchMethod: async (hash, _stale, { signal }) => {
        const code = await fetchCode(hash, signal)
        if (hashCode(code) !== hash) {
          throw new OsirisError('INTERNAL', `code fetched for ${hash} does not match its hash`)
        }
        return code
      },
    })
  }

  /** Records code this host already has (from validating it at deploy). */
  put(code: string): string {
    const hash = hashCode(code)
    this.#cache.set(hash, code)
    return hash
  }

  has(hash: string): boolean {
    return this.#cache.has(hash)
  }

  hashes(): string[] {
    return [...this.#cache.keys()]
  }

  async get(hash: string): Promise<string> {
    const code = await this.#cache.fetch(hash)
    if (code === undefined) throw new OsirisError('NOT_FOUND', `no code with hash ${hash}`)
    return code
  }
}
