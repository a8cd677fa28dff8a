/**
 * Which addresses the gateway may connect to. A resolved address is classified; anything but
 * `public` is refused unless the route names that exact address. IPv6 forms that carry an IPv4
 * address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are
 * classified by the IPv4 address they reach, so `::ffff:127.0.0.1` is loopback.
 * Range tests use node:net's BlockList; only the embedded-IPv4 extraction is written here.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { canonicalIp } from '../policy/network.ts';

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'multicast' | 'metadata' | 'reserved' | 'unspecified';

type Ranges = readonly (readonly [string, number])[];

// Cloud instance-metadata endpoints: refused by name so a message can say what they are.
const METADATA = ['169.254.169.254', '169.254.170.2', '100.100.100.200', '168.63.129.16', '192.0.0.192', 'fd00:ec2::254'];

const V4: Readonly<Record<Exclude<AddressClass, 'public' | 'metadata'>, Ranges>> = {
  unspecified: [['0.0.0.0', 8]],
  loopback: [['127.0.0.0', 8]],
  private: [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['198.18.0.0', 15]],
  'link-local': [['169.254.0.0', 16]],
  multicast: [['224.0.0.0', 4]],
  reserved: [['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['198.51.100.0', 24], ['203.0.113.0', 24], ['240.0.0.0', 4]],
};
const V6: Readonly<Record<Exclude<AddressClass, 'public' | 'metadata'>, Ranges>> = {
  unspecified: [['::', 128]],
  loopback: [['::1', 128]],
  private: [['fc00::', 7], ['fec0::', 10]],
  'link-local': [['fe80::', 10]],
  multicast: [['ff00::', 8]],
  reserved: [['2001:db8::', 32], ['2001::', 32], ['100::', 64], ['2001:10::', 28], ['5f00::', 8]],
};

function blockLists(): readonly (readonly [AddressClass, BlockList])[] {
  const lists: [AddressClass, BlockList][] = [];
  const meta = new BlockList();
  for (const a of METADATA) meta.addAddress(a, isIPv4(a) ? 'ipv4' : 'ipv6');
  lists.push(['metadata', meta]);
  for (const cls of Object.keys(V4) as (keyof typeof V4)[]) {
    const list = new BlockList();
    for (const [net, bits] of V4[cls]) list.addSubnet(net, bits, 'ipv4');
    for (const [net, bits] of V6[cls]) list.addSubnet(net, bits, 'ipv6');
    lists.push([cls, list]);
  }
  return lists;
}

// Built once and never changed: a lookup table, not state.
const LISTS = blockLists();

/** The eight 16-bit groups of an IPv6 address (which must be valid). */
function groups(v6: string): number[] {
  const [head = '', tail] = v6.split('::');
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function v4Of(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * The IPv4 address an IPv6 address reaches, when it embeds one (mapped, compatible, NAT64, 6to4).
 * `::` and `::1` embed nothing.
 */
export function embeddedIpv4(v6: string): string | null {
  const g = groups(v6);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const zeroTo = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(5) && g5 === 0xffff) return v4Of(g6, g7);
  if (zeroTo(6) && (g6 !== 0 || g7 > 1)) return v4Of(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4Of(g6, g7);
  if (g0 === 0x2002) return v4Of(g1, g2);
  return null;
}

/**
 * The address a socket would really reach, canonical: IPv4-mapped IPv6 becomes its IPv4 form.
 * Returns null for anything that is not an IP address.
 */
export function normalizeAddress(address: string): string | null {
  const ip = canonicalIp(address);
  if (ip === null) return null;
  if (isIPv6(ip)) {
    const g = groups(ip);
    if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4Of(g[6] ?? 0, g[7] ?? 0);
  }
  return ip;
}

function classifyOne(ip: string): AddressClass {
  const family = isIPv4(ip) ? 'ipv4' : 'ipv6';
  for (const [cls, list] of LISTS) if (list.check(ip, family)) return cls;
  return 'public';
}

/**
 * Classifies one IP address; anything that is not an address is `reserved` (fail closed).
 *
 * @example
 *   classifyAddress('::ffff:127.0.0.1') // 'loopback'
 *   classifyAddress('169.254.169.254')  // 'metadata'
 */
export function classifyAddress(address: string): AddressClass {
  const ip = normalizeAddress(address);
  if (ip === null) return 'reserved';
  const own = classifyOne(ip);
  if (own !== 'public' || isIPv4(ip)) return own;
  const inner = embeddedIpv4(ip);
  return inner === null ? own : classifyOne(inner);
}

/** May a route reach this address? Public addresses yes; special ones only when the route names them; unspecified ones never. */
export function addressPermitted(named: ReadonlySet<string>, address: string): { ok: true; address: string } | { ok: false; class: AddressClass } {
  const ip = normalizeAddress(address);
  if (ip === null) return { ok: false, class: 'reserved' };
  const cls = classifyAddress(ip);
  // An unspecified address is no destination: the kernel connects 0.0.0.0 and :: to this machine
  // itself, so naming one in a route would grant the host's loopback services. Never reachable.
  if (cls === 'unspecified') return { ok: false, class: cls };
  if (cls === 'public' || named.has(ip)) return { ok: true, address: ip };
  return { ok: false, class: cls };
}
