// IPv4 addresses and CIDR blocks as 32-bit numbers: parsing with clear errors,
// containment and overlap. rocker networks are IPv4 only.
import { NetworkError } from './errors.js';

export interface Cidr {
  /** Network address (host bits zero). */
  base: number;
  prefix: number;
}

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted-quad IPv4 address; `what` names the flag in the error. */
export function parseIPv4(text: string, what: string): number {
  const m = DOTTED.exec(text);
  const parts = m ? m.slice(1).map(Number) : [];
  if (!m || parts.some((p) => p > 255)) throw new NetworkError(`invalid ${what} "${text}": not an IPv4 address`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/n"; host bits must be zero so the stored subnet is unambiguous. */
export function parseCidr(text: string, what = 'subnet'): Cidr {
  const slash = text.indexOf('/');
  const prefixText = slash < 0 ? '' : text.slice(slash + 1);
  if (slash < 0 || !/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) {
    throw new NetworkError(`invalid ${what} "${text}": expected CIDR notation like 10.213.0.0/24`);
  }
  const addr = parseIPv4(text.slice(0, slash), what);
  const prefix = Number(prefixText);
  const base = (addr & mask(prefix)) >>> 0;
  if (base !== addr) {
    throw new NetworkError(`invalid ${what} "${text}": host bits are set (did you mean ${formatCidr({ base, prefix })}?)`);
  }
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function lastAddress(c: Cidr): number {
  return (c.base | ~mask(c.prefix)) >>> 0;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.base) || contains(b, a.base);
}

/** True when `ip` is a usable host address of `c` (not the network or broadcast address). */
export function isHostAddress(c: Cidr, ip: number): boolean {
  return contains(c, ip) && ip !== c.base && ip !== lastAddress(c);
}
