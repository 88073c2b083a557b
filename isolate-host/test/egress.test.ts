// The egress ranges, table-driven: every range of IANA's IPv4 and IPv6
// special-purpose registries is refused, with the IPv6 forms that carry an
// IPv4 address decoded and judged by it, and the transition forms refused
// whole. No traffic: refusedRange is what both the IP-literal check and the
// DNS lookup hook ask.
import t from 'tap'
import { checkHost, egressPolicy, embeddedIPv4, refusedRange } from '../src/egress.ts'

const CASES: ReadonlyArray<readonly [string, string | undefined]> = [
  // IPv4 special-purpose registry
  ['0.0.0.0', 'this network'],
  ['0.1.2.3', 'this network'],
  ['10.255.0.1', 'private'],
  ['100.64.0.1', 'shared (CGNAT, cloud metadata)'],
  ['100.100.100.200', 'shared (CGNAT, cloud metadata)'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.169.254', 'link-local (cloud metadata)'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.0.0.9', 'reserved'],
  ['192.0.0.170', 'reserved'],
  ['192.0.2.1', 'documentation'],
  ['192.31.196.1', 'reserved'],
  ['192.52.193.1', 'reserved'],
  ['192.88.99.1', 'reserved'],
  ['192.168.1.1', 'private'],
  ['192.175.48.1', 'reserved'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  // public IPv4, including neighbours of refused ranges
  ['8.8.8.8', undefined],
  ['93.184.216.34', undefined],
  ['100.63.255.255', undefined],
  ['100.128.0.0', undefined],
  ['172.32.0.1', undefined],
  ['192.0.3.1', undefined],
  ['198.20.0.1', undefined],
  ['223.255.255.255', undefined],
  // IPv6 special-purpose registry
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::2', 'IPv4-compatible (deprecated)'],
  ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
  ['::8.8.8.8', 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::a9fe:a9fe', 'IPv4/IPv6 translation (local use)'],
  ['64:ff9b:1::808:808', 'IPv4/IPv6 translation (local use)'],
  ['100::1', 'discard'],
  ['100::ffff:ffff:ffff:ffff', 'discard'],
  ['100:0:0:1::1', 'reserved'],
  ['2001::1', 'Teredo'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  ['2001:1::1', 'reserved'],
  ['2001:2::1', 'benchmarking'],
  ['2001:3::1', 'reserved'],
  ['2001:20::1', 'reserved'],
  ['2001:1ff::1', 'reserved'],
  ['2001:db8::1', 'documentation'],
  ['2002:7f00:1::', '6to4'],
  ['2002:808:808::1', '6to4'],
  ['2620:4f:8000::1', 'reserved'],
  ['3fff::1', 'documentation'],
  ['3fff:fff::1', 'documentation'],
  ['5f00::1', 'reserved'],
  ['fc00::1', 'unique local (private, cloud metadata)'],
  ['fd00:ec2::254', 'unique local (private, cloud metadata)'],
  ['fe80::1', 'link-local'],
  ['febf::1', 'link-local'],
  ['fec0::1', 'site-local (deprecated)'],
  ['feff::1', 'site-local (deprecated)'],
  ['ff02::1', 'multicast'],
  ['4000::1', 'reserved (not global unicast)'],
  ['e000::1', 'reserved (not global unicast)'],
  ['1::1', 'reserved (not global unicast)'],
  // IPv6 forms carrying an IPv4 address: judged by it
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
  ['::ffff:169.254.169.254', 'link-local (cloud metadata)'],
  ['::ffff:0:127.0.0.1', 'loopback'],
  ['::ffff:0:a9fe:a9fe', 'link-local (cloud metadata)'],
  ['64:ff9b::a9fe:a9fe', 'link-local (cloud metadata)'],
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['::ffff:8.8.8.8', undefined],
  ['64:ff9b::808:808', undefined],
  // public IPv6
  ['2606:4700::1111', undefined],
  ['2a00:1450:4001:80b::200e', undefined],
  ['2001:200::1', undefined],
  ['[2606:4700::1111]', undefined],
  // not an address
  ['example.com', 'not an IP address'],
]

t.test('every special-purpose range is refused, embedded IPv4 decoded', async (t) => {
  for (const [address, expected] of CASES)
    t.equal(refusedRange(address), expected, `${address} → ${expected ?? 'public'}`)
})

t.test('embedded IPv4 addresses', async (t) => {
  t.equal(embeddedIPv4('::ffff:1.2.3.4'), '1.2.3.4')
  t.equal(embeddedIPv4('::ffff:0102:0304'), '1.2.3.4')
  t.equal(embeddedIPv4('::ffff:0:1.2.3.4'), '1.2.3.4')
  t.equal(embeddedIPv4('64:ff9b::1.2.3.4'), '1.2.3.4')
  t.equal(embeddedIPv4('64:ff9b:1::1.2.3.4'), undefined, 'local-use NAT64 is refused whole, not decoded')
  t.equal(embeddedIPv4('2606:4700::1111'), undefined)
})

t.test('IP literals are refused before connecting; allowlisted hosts pass', async (t) => {
  t.throws(() => checkHost(egressPolicy(), '[::127.0.0.1]'), {
    name: 'EgressRefused',
    message: 'fetch to ::127.0.0.1 refused: IPv4-compatible (deprecated) address',
  })
  t.throws(() => checkHost(egressPolicy(), '[2002:7f00:1::]'), {
    message: 'fetch to 2002:7f00:1:: refused: 6to4 address',
  })
  t.doesNotThrow(() => checkHost(egressPolicy(['fec0::1']), '[fec0::1]'), 'an allowlisted address')
})
