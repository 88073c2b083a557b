// The egress policy for fetch: by default only public addresses. Every range
// of IANA's IPv4 and IPv6 special-purpose address registries is refused
// (loopback, private, link-local with cloud metadata, shared, documentation,
// benchmarking, protocol assignments, AS112, AMT, discard, ...), plus
// multicast, the deprecated site-local range, and any IPv6 address outside
// global unicast (2000::/3); IPv6 forms that carry an IPv4 address (mapped,
// translated, IPv4-compatible, NAT64) are decoded and judged by that address,
// and the transition forms (6to4, Teredo, local-use NAT64) are refused whole,
// like workerd's `network.allow = ["public"]`. A function's allowlist of hosts
// (names or IP addresses) lets it reach those hosts whatever they resolve to.
// The check runs on the addresses actually connected to (a DNS lookup hook),
// so a name that resolves to a refused address later (DNS rebinding) is
// refused too. Ranges are matched with node's built-in net.BlockList.
import { lookup as dnsLookup } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/**
 * [label, network, prefix]. Sources: IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (RFC 6890 and updates), the IPv4 multicast range (RFC 5771), and
 * RFC 3879's deprecated site-local range. Most specific first: the first match names the range.
 */
const REFUSED_V4: ReadonlyArray<readonly [string, string, number]> = [
  ['this network', '0.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['shared (CGNAT, cloud metadata)', '100.64.0.0', 10],
  ['loopback', '127.0.0.0', 8],
  ['link-local (cloud metadata)', '169.254.0.0', 16],
  ['private', '172.16.0.0', 12],
  ['reserved', '192.0.0.0', 24], // IETF protocol assignments: DS-Lite, PCP and TURN anycast, NAT64 discovery
  ['documentation', '192.0.2.0', 24],
  ['reserved', '192.31.196.0', 24], // AS112-v4
  ['reserved', '192.52.193.0', 24], // AMT
  ['reserved', '192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['private', '192.168.0.0', 16],
  ['reserved', '192.175.48.0', 24], // direct delegation AS112
  ['benchmarking', '198.18.0.0', 15],
  ['documentation', '198.51.100.0', 24],
  ['documentation', '203.0.113.0', 24],
  ['multicast', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4], // limited broadcast 255.255.255.255 included
]

const REFUSED_V6: ReadonlyArray<readonly [string, string, number]> = [
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['IPv4-compatible (deprecated)', '::', 96],
  ['IPv4/IPv6 translation (local use)', '64:ff9b:1::', 48],
  ['discard', '100::', 64],
  ['reserved', '100:0:0:1::', 64], // dummy prefix (RFC 9780)
  ['Teredo', '2001::', 32],
  ['benchmarking', '2001:2::', 48],
  ['reserved', '2001::', 23], // IETF protocol assignments: PCP, TURN, AMT, AS112, ORCHID, DETs
  ['documentation', '2001:db8::', 32],
  ['6to4', '2002::', 16],
  ['reserved', '2620:4f:8000::', 48], // direct delegation AS112
  ['documentation', '3fff::', 20],
  ['reserved', '5f00::', 16], // segment routing SIDs
  ['unique local (private, cloud metadata)', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['site-local (deprecated)', 'fec0::', 10],
  ['multicast', 'ff00::', 8],
]

function compile(table: ReadonlyArray<readonly [string, string, number]>, family: 'ipv4' | 'ipv6') {
  return table.map(([label, network, prefix]) => {
    const list = new BlockList()
    list.addSubnet(network, prefix, family)
    return { label, list }
  })
}

const LISTS_V4 = compile(REFUSED_V4, 'ipv4')
const LISTS_V6 = compile(REFUSED_V6, 'ipv6')
const GLOBAL_UNICAST = new BlockList()
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6')

/** The 16 bytes of an IPv6 address (already known valid by isIP), dotted-quad tail included. */
function ipv6Bytes(address: string): number[] {
  let text = address.replace(/%.*$/, '')
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parts = (s: string | undefined): string[] => (s ? s.split(':') : [])
  const left = parts(head)
  const right = parts(tail)
  const hextets = [
    ...left,
    ...Array<string>(tail === undefined ? 0 : 8 - left.length - right.length).fill('0'),
    ...right,
  ]
  return hextets.flatMap((h) => {
    const n = Number.parseInt(h, 16)
    return [n >> 8, n & 255]
  })
}

/**
 * The IPv4 address an IPv6 address stands for, when it is one of the forms
 * that carry one to a v4 host: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated
 * (::ffff:0:a.b.c.d) and well-known NAT64 (64:ff9b::a.b.c.d).
 */
export function embeddedIPv4(address: string): string | undefined {
  const b = ipv6Bytes(address)
  const zero = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0)
  const v4 = (): string => b.slice(12, 16).join('.')
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4()
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return v4()
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4()
  return undefined
}

/** Why an address is refused (its range), or undefined for a public address. */
export function refusedRange(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '')
  const family = isIP(bare)
  if (family === 0) return 'not an IP address'
  if (family === 4) return LISTS_V4.find((l) => l.list.check(bare, 'ipv4'))?.label
  const v4 = embeddedIPv4(bare)
  if (v4 !== undefined) return refusedRange(v4)
  const named = LISTS_V6.find((l) => l.list.check(bare, 'ipv6'))?.label
  if (named !== undefined) return named
  return GLOBAL_UNICAST.check(bare, 'ipv6') ? undefined : 'reserved (not global unicast)'
}

export interface EgressPolicy {
  /** Hosts (names or IP addresses, lower case) reachable whatever they resolve to. */
  readonly allow: ReadonlySet<string>
}

const PUBLIC_ONLY: EgressPolicy = Object.freeze({ allow: new Set<string>() })

export function egressPolicy(allow: readonly string[] = []): EgressPolicy {
  if (allow.length === 0) return PUBLIC_ONLY
  return { allow: new Set(allow.map((h) => h.toLowerCase().replace(/^\[|\]$/g, ''))) }
}

export class EgressRefused extends Error {
  override get name(): string {
    return 'EgressRefused'
  }
}

/** Refuses `hostname` when it is an IP literal in a refused range and not allowed. */
export function checkHost(policy: EgressPolicy, hostname: string): void {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '')
  if (policy.allow.has(host) || isIP(host) === 0) return
  const range = refusedRange(host)
  if (range !== undefined) throw new EgressRefused(`fetch to ${host} refused: ${range} address`)
}

/** A DNS lookup for connections that refuses names resolving to refused addresses. */
export function policyLookup(policy: EgressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0)
      const allowed = policy.allow.has(hostname.toLowerCase())
      const bad = allowed ? undefined : addresses.find((a) => refusedRange(a.address) !== undefined)
      if (bad !== undefined) {
        const range = refusedRange(bad.address)
        return callback(
          new EgressRefused(`fetch to ${hostname} refused: it resolves to ${bad.address}, a ${range} address`),
          '',
          0,
        )
      }
      const first = addresses[0]
      if (options.all) return (callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses)
      callback(null, first?.address ?? '', first?.family ?? 4)
    })
  }
}
