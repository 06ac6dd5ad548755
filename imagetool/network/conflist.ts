// The CNI network configuration list rocker writes for a network, and the facts
// rocker reads back from one (subnet, gateway, bridge).
import { NetworkError } from './errors.js';

export const CNI_VERSION = '1.0.0';

export interface PluginConf {
  type: string;
  [key: string]: unknown;
}

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface NetworkSpec {
  name: string;
  subnet: string;
  gateway: string;
  bridge: string;
  /** host-local's data directory; it keeps one lease directory (and lock) per network name. */
  ipamDataDir: string;
}

/**
 * bridge (with host-local IPAM, NAT for outgoing traffic and hairpin so a container
 * reaches its own published ports), portmap for --publish, firewall so forwarding
 * works even when the host's FORWARD policy is DROP.
 */
export function buildConflist(s: NetworkSpec): Conflist {
  return {
    cniVersion: CNI_VERSION,
    name: s.name,
    plugins: [
      {
        type: 'bridge',
        bridge: s.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: s.subnet, gateway: s.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: s.ipamDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'firewall', backend: 'iptables' },
    ],
  };
}

export interface NetworkFacts {
  name: string;
  driver: 'bridge';
  subnet: string;
  gateway: string;
  bridge: string;
}

/** Reads back what `buildConflist` wrote; `file` names the conflist in errors. */
export function networkFacts(c: Conflist, file: string): NetworkFacts {
  const bridge = c.plugins?.find((p) => p.type === 'bridge') as
    | { bridge?: string; ipam?: { ranges?: { subnet?: string; gateway?: string }[][] } }
    | undefined;
  const range = bridge?.ipam?.ranges?.[0]?.[0];
  if (!bridge?.bridge || !range?.subnet || !range.gateway) {
    throw new NetworkError(`${file}: not a rocker bridge network (missing bridge, subnet or gateway)`);
  }
  return { name: c.name, driver: 'bridge', subnet: range.subnet, gateway: range.gateway, bridge: bridge.bridge };
}
