import { cidrContains, parseCidr, type Cidr } from '@hangar/api';

export { cidrContains, formatAddress, isIpLiteral, parseAddress, parseCidr } from '@hangar/api';
export type { Cidr } from '@hangar/api';

/**
 * The class of an address: whether the egress proxy may reach it without an explicit
 * `allowPrivate` block. Parsing and CIDR blocks live in `@hangar/api`, shared with the control
 * plane's policy validation.
 */

export type AddressKind =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'cgnat'
  | 'multicast'
  | 'reserved'
  | 'metadata';

function block(text: string): Cidr {
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') throw new Error(cidr);
  return cidr;
}

/** Cloud metadata services: refused unless `allowPrivate` names the very address. */
const metadata = [
  '169.254.169.254/32', // AWS, Azure, GCP, OpenStack and most others
  '169.254.170.2/32', // AWS ECS task metadata
  '169.254.169.253/32', // AWS VPC DNS
  '100.100.100.200/32', // Alibaba Cloud
  '192.0.0.192/32', // Oracle Cloud (classic)
  'fd00:ec2::254/128', // AWS over IPv6
  'fd00:ec2::23/128', // AWS VPC DNS over IPv6
].map(block);

/** Ranges that are not the public internet, most specific first within each family. */
type SpecialKind = Exclude<AddressKind, 'public' | 'metadata'>;

const special: Array<{ cidr: Cidr; kind: SpecialKind }> = (
  [
    ['0.0.0.0/8', 'unspecified'],
    ['127.0.0.0/8', 'loopback'],
    ['10.0.0.0/8', 'private'],
    ['172.16.0.0/12', 'private'],
    ['192.168.0.0/16', 'private'],
    ['100.64.0.0/10', 'cgnat'],
    ['169.254.0.0/16', 'link-local'],
    ['192.0.0.0/24', 'reserved'],
    ['192.0.2.0/24', 'reserved'],
    ['192.88.99.0/24', 'reserved'],
    ['198.18.0.0/15', 'reserved'],
    ['198.51.100.0/24', 'reserved'],
    ['203.0.113.0/24', 'reserved'],
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'],
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['::/96', 'reserved'],
    ['64:ff9b:1::/48', 'private'],
    ['100::/64', 'reserved'],
    ['2001::/32', 'reserved'],
    ['2001:db8::/32', 'reserved'],
    ['fc00::/7', 'unique-local'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'private'],
    ['ff00::/8', 'multicast'],
  ] satisfies Array<[string, SpecialKind]>
).map(([text, kind]) => ({ cidr: block(text), kind }));

const nat64 = block('64:ff9b::/96');
const sixToFour = block('2002::/16');
/** IPv4-translated addresses (RFC 2765, `::ffff:0:a.b.c.d`), judged by the IPv4 they carry. */
const translated = block('::ffff:0:0:0/96');

/**
 * The IPv4 address an IPv6 address carries to the IPv4 internet (NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`), so that `64:ff9b::a9fe:a9fe` is judged as 169.254.169.254.
 */
function embeddedV4(bytes: Uint8Array): Uint8Array | undefined {
  const mapped = new Uint8Array(16);
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  if (cidrContains(nat64, bytes) || cidrContains(translated, bytes)) {
    mapped.set(bytes.subarray(12), 12);
    return mapped;
  }
  if (cidrContains(sixToFour, bytes)) {
    mapped.set(bytes.subarray(2, 6), 12);
    return mapped;
  }
  return undefined;
}

export interface AddressClass {
  kind: AddressKind;
  /** The block that made it so, e.g. `10.0.0.0/8`; absent for a public address. */
  range?: string;
}

export function classifyAddress(bytes: Uint8Array): AddressClass {
  const carried = embeddedV4(bytes);
  if (carried) {
    const inner = classifyAddress(carried);
    return inner.kind === 'public' ? inner : { ...inner, range: `${inner.range} (embedded)` };
  }
  const meta = metadata.find((cidr) => cidrContains(cidr, bytes));
  if (meta) return { kind: 'metadata', range: meta.text };
  const hit = special.find((entry) => cidrContains(entry.cidr, bytes));
  return hit ? { kind: hit.kind, range: hit.cidr.text } : { kind: 'public' };
}

/**
 * Whether the proxy may connect to the address under `allowPrivate`: a public one always; any
 * other when a block covers it; a metadata address only when a block names that very address
 * (a /32 or /128), so allowing `169.254.0.0/16` for a device does not open the metadata service.
 */
export function addressAllowed(bytes: Uint8Array, allowPrivate: readonly Cidr[]): boolean {
  const target = embeddedV4(bytes) ?? bytes;
  const kind = classifyAddress(target).kind;
  if (kind === 'public') return true;
  return allowPrivate.some(
    (cidr) => cidrContains(cidr, target) && (kind !== 'metadata' || cidr.bits === 128),
  );
}
