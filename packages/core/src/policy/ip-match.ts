import { BlockList, isIP } from 'node:net';

/**
 * An address as Istio sees it: `::ffff:a.b.c.d` (Node's form of an IPv4 peer on a dual-stack
 * socket) becomes `a.b.c.d`. `undefined` for anything that is not an IP address.
 */
export function normalizeIp(ip: string | undefined): string | undefined {
  if (ip === undefined || ip === '' || ip.includes('%')) return undefined;
  if (ip.length > 7 && ip.slice(0, 7).toLowerCase() === '::ffff:') {
    const v4 = ip.slice(7);
    if (isIP(v4) === 4) return v4;
  }
  return isIP(ip) === 0 ? undefined : ip;
}

/** Parses an `ipBlocks` value (IPv4/IPv6 address or CIDR, as Go's `net.ParseIP` / `ParseCIDR`). */
export function parseIpBlock(
  value: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = value.indexOf('/');
  const addr = normalizeIp(slash === -1 ? value : value.slice(0, slash));
  if (addr === undefined) return undefined;
  const family = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
  const max = family === 'ipv4' ? 32 : 128;
  if (slash === -1) return { address: addr, prefix: max, family };
  const p = value.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max) return undefined;
  // `::ffff:10.0.0.0/104` is the IPv4 block 10.0.0.0/8 once unwrapped.
  const raw = normalizeIp(value.slice(0, slash)) !== value.slice(0, slash);
  const prefix = raw && family === 'ipv4' ? Number(p) - 96 : Number(p);
  if (prefix < 0) return undefined;
  return { address: addr, prefix, family };
}

/** A matcher over one normalized IP address (see {@link normalizeIp}). */
export type IpMatcher = (ip: string) => boolean;

/** Compiles validated IP/CIDR values into one `BlockList` (any block matches). */
export function compileIpBlocks(values: readonly string[]): IpMatcher {
  const list = new BlockList();
  for (const v of values) {
    const block = parseIpBlock(v);
    if (!block) throw new Error(`invalid IP block ${v}`);
    list.addSubnet(block.address, block.prefix, block.family);
  }
  return (ip) => {
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  };
}
