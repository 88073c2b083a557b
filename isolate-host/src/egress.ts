// The egress policy for fetch: by default only public addresses. Loopback,
// private, link-local (cloud metadata included), shared, documentation,
// multicast and reserved ranges are refused, like workerd's
// `network.allow = ["public"]`; a function's allowlist of hosts (names or IP
// addresses) lets it reach those hosts whatever they resolve to. The check
// runs on the addresses actually connected to (a DNS lookup hook), so a name
// that resolves to a refused address later (DNS rebinding) is refused too.
import { lookup as dnsLookup } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

const REFUSED: [string, string, number, 'ipv4' | 'ipv6'][] = [
  ['this network', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['shared (CGNAT, cloud metadata)', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local (cloud metadata)', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['documentation', '192.0.2.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['benchmarking', '198.18.0.0', 15, 'ipv4'],
  ['documentation', '198.51.100.0', 24, 'ipv4'],
  ['documentation', '203.0.113.0', 24, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['unique local (private, cloud metadata)', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['documentation', '2001:db8::', 32, 'ipv6'],
]

const lists = REFUSED.map(([label, network, prefix, family]) => {
  const list = new BlockList()
  list.addSubnet(network, prefix, family)
  return { label, list, family }
})

/** The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address, if any. */
function embeddedIPv4(address: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (match) return match[1]
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
  if (!hex) return undefined
  const n = (Number.parseInt(hex[1] ?? '0', 16) << 16) | Number.parseInt(hex[2] ?? '0', 16)
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

/** Why an address is refused (its range), or undefined for a public address. */
export function refusedRange(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '')
  const family = isIP(bare)
  if (family === 0) return 'not an IP address'
  const v4 = family === 6 ? embeddedIPv4(bare) : undefined
  if (v4 !== undefined) return refusedRange(v4)
  const type = family === 4 ? 'ipv4' : 'ipv6'
  return lists.find((l) => l.family === type && l.list.check(bare, type))?.label
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
