// Where networks live. The conflists are configuration (kept across reboots);
// leases, attachments, port reservations and pinned netns are runtime state on
// tmpfs, so a reboot (which ends every container) also ends every lease.
import { join, resolve } from 'node:path';

export interface NetworkDirs {
  /** `<name>.conflist` files, one per network. */
  configDir: string;
  /** ipam/ (host-local data, one subdir per network), containers/, ports/, netns/. */
  stateDir: string;
}

export const DEFAULT_CONFIG_DIR = '/etc/rocker/networks';
export const DEFAULT_STATE_DIR = '/run/rocker-network';

/** Explicit values win, then ROCKER_NETWORK_CONFIG_DIR / ROCKER_NETWORK_STATE_DIR, then the defaults. */
export function networkDirs(configDir?: string, stateDir?: string): NetworkDirs {
  return {
    configDir: resolve(configDir || process.env.ROCKER_NETWORK_CONFIG_DIR || DEFAULT_CONFIG_DIR),
    stateDir: resolve(stateDir || process.env.ROCKER_NETWORK_STATE_DIR || DEFAULT_STATE_DIR),
  };
}

export const conflistPath = (d: NetworkDirs, name: string) => join(d.configDir, `${name}.conflist`);
export const ipamDir = (d: NetworkDirs) => join(d.stateDir, 'ipam');
export const attachmentsDir = (d: NetworkDirs) => join(d.stateDir, 'containers');
export const attachmentPath = (d: NetworkDirs, id: string) => join(attachmentsDir(d), `${id}.json`);
export const portsDir = (d: NetworkDirs) => join(d.stateDir, 'ports');
export const netnsPath = (d: NetworkDirs, id: string) => join(d.stateDir, 'netns', id);
