/** IPv4 addresses and subnets as 32-bit numbers. */

export const ipString = (ip: number) => [24, 16, 8, 0].map((s) => (ip >>> s) & 255).join('.');

export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export function parseSubnet(s: string, where: string): { net: number; prefix: number } {
  const m = /^([\d.]+)\/(\d+)$/.exec(s);
  const ip = m ? parseIp(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 16 && prefix <= 29)) throw new Error(`${where}: subnet must look like "10.1.2.0/24" with a prefix from 16 to 29, got ${JSON.stringify(s)}`);
  if ((ip & mask(prefix)) >>> 0 !== ip) throw new Error(`${where}: subnet ${s} has host bits set (did you mean ${ipString((ip & mask(prefix)) >>> 0)}/${prefix}?)`);
  return { net: ip, prefix };
}

export function overlaps(a: { net: number; prefix: number }, b: { net: number; prefix: number }): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.net & mask(p)) >>> 0 === (b.net & mask(p)) >>> 0;
}
