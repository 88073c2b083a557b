// API tokens and roles. A token is sent as `authorization: Bearer TOKEN`
// (gRPC metadata or the HTTP header) and carries one role:
//   admin   everything: deploy, delete, hosts, logs, and what invoke may do
//   invoke  call functions, and read function records
//   host    register as a host and fetch code
//   metrics read /metrics (a Prometheus scraper's token)
// Tokens come from a file or the environment; comparison takes the same time
// whatever the token (each candidate is hashed and compared in full).
// With TLS on, a client certificate from the cluster CA whose OU is a role
// (`osiris certs client NAME --role invoke`) is a credential too, for callers
// that send no token. With no tokens configured, auth is off and the
// controller refuses to listen anywhere but loopback.
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { type Identity, OsirisError } from '@osiris/proto'

export const ROLES = ['admin', 'invoke', 'host', 'metrics'] as const
export type Role = (typeof ROLES)[number]

interface Token {
  digest: Buffer
  role: Role
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value)
}

/**
 * Parses `ROLE TOKEN` pairs, one per line (file) or separated by `;`/`,`
 * (environment); `#` starts a comment. Throws with the line at fault.
 */
export function parseTokens(text: string, source: string): Array<{ role: Role; token: string }> {
  const entries: Array<{ role: Role; token: string }> = []
  text.split(/[\n;,]/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim()
    if (!line) return
    const [role = '', token = '', ...rest] = line.split(/[\s=]+/)
    if (!isRole(role) || token.length < 16 || rest.length > 0) {
      throw new OsirisError(
        'INVALID_ARGUMENT',
        `${source} entry ${i + 1} must be "ROLE TOKEN" with ROLE one of ${ROLES.join(', ')} and a token of at least 16 characters`,
      )
    }
    entries.push({ role, token })
  })
  return entries
}

/** Tokens from `tokensFile` (if given) and `OSIRIS_TOKENS`; empty means auth is off. */
export function loadTokens(
  tokensFile: string | undefined,
  env: string | undefined,
): Array<{ role: Role; token: string }> {
  const fromFile = tokensFile ? parseTokens(readFileSync(tokensFile, 'utf8'), tokensFile) : []
  const fromEnv = env ? parseTokens(env, 'OSIRIS_TOKENS') : []
  return [...fromFile, ...fromEnv]
}

const ALLOWED: Record<Role, ReadonlySet<Role>> = {
  admin: new Set(['admin']),
  invoke: new Set(['admin', 'invoke']),
  host: new Set(['admin', 'host']),
  metrics: new Set(['admin', 'metrics']),
}

export class Authenticator {
  readonly #tokens: Token[]

  constructor(tokens: ReadonlyArray<{ role: Role; token: string }>) {
    this.#tokens = tokens.map(({ role, token }) => ({ role, digest: digest(token) }))
  }

  get enabled(): boolean {
    return this.#tokens.length > 0
  }

  /** The role of the bearer token in `header`; throws UNAUTHENTICATED. */
  #tokenRole(header: string | undefined): Role {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '')
    if (!match?.[1]) throw new OsirisError('UNAUTHENTICATED', 'missing credentials: send "authorization: Bearer TOKEN"')
    const presented = digest(match[1])
    let found: Role | undefined
    for (const token of this.#tokens) {
      if (timingSafeEqual(token.digest, presented)) found = token.role
    }
    if (!found) throw new OsirisError('UNAUTHENTICATED', 'the token is not valid')
    return found
  }

  /**
   * Checks that the caller may do what `needed` may: by the token in `header`,
   * else by the role its verified client certificate names (`peer`). A no-op
   * with auth off.
   */
  check(header: string | undefined, needed: Role, what: string, peer?: Identity): void {
    if (!this.enabled) return
    const certified = header === undefined && peer !== undefined && isRole(peer.role) ? peer.role : undefined
    const role = certified ?? this.#tokenRole(header)
    if (!ALLOWED[needed].has(role)) {
      const credential = certified ? 'a certificate' : 'a token'
      throw new OsirisError('PERMISSION_DENIED', `${credential} with role "${role}" may not ${what}`)
    }
  }
}

/** Loopback only: what the controller may bind with auth off (shared with hosts, in proto). */
export { isLoopback } from '@osiris/proto'
