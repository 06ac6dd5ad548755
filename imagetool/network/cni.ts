// A small CNI client: runs a conflist's plugins the way the CNI spec says a
// runtime does (ADD in order, each given the previous result; DEL in reverse,
// each given the cached result) and turns plugin errors into PluginErrors.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Conflist, PluginConf } from './conflist.js';
import { PluginError } from './errors.js';

export const DEFAULT_CNI_PATH = '/usr/lib/cni';

/** The part of a CNI result rocker uses. */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  [key: string]: unknown;
}

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

export interface CniInvocation {
  containerId: string;
  /** Path of the container's network namespace; "" when it is gone (DEL only). */
  netns: string;
  ifname: string;
  /** CNI_ARGS, e.g. "IgnoreUnknown=1;IP=10.213.0.9". */
  args: string;
  cniPath: string;
  /** Capability arguments; each plugin gets only those it declares in `capabilities`. */
  capabilityArgs: { portMappings?: PortMapping[] };
}

// Plugins run iptables and ip; hooks may be started with an empty environment.
const PLUGIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function pluginBinary(type: string, cniPath: string): string {
  for (const dir of cniPath.split(':')) {
    const file = join(dir, type);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // try the next directory
    }
  }
  throw new PluginError(type, 'find', `plugin "${type}" not found in CNI path ${cniPath}`);
}

function pluginConfig(list: Conflist, plugin: PluginConf, inv: CniInvocation, prevResult?: CniResult) {
  const caps = (plugin.capabilities ?? {}) as Record<string, boolean>;
  const runtimeConfig = Object.fromEntries(Object.entries(inv.capabilityArgs).filter(([k]) => caps[k]));
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
  if (prevResult) conf.prevResult = prevResult;
  return conf;
}

function runPlugin(command: 'ADD' | 'DEL', type: string, conf: object, inv: CniInvocation): Promise<string> {
  const bin = pluginBinary(type, inv.cniPath);
  const env = {
    PATH: process.env.PATH || PLUGIN_PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: inv.ifname,
    CNI_ARGS: inv.args,
    CNI_PATH: inv.cniPath,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => reject(new PluginError(type, command, e.message)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(out);
      let detail = err.trim() || `exited with ${signal ?? code}`;
      let errCode: number | undefined;
      try {
        const e = JSON.parse(out) as { code?: number; msg?: string; details?: string };
        errCode = e.code;
        detail = [e.msg, e.details].filter(Boolean).join(': ') || detail;
      } catch {
        // not a JSON error object: stderr or the exit status says it
      }
      reject(new PluginError(type, command, detail, errCode));
    });
    child.stdin.on('error', () => {}); // a plugin that exits early closes its stdin; its exit status tells
    child.stdin.end(JSON.stringify(conf));
  });
}

/**
 * CNI ADD of every plugin in order. `progress` is told before each plugin starts
 * (how many have started) and after it succeeds (the result so far), so the
 * caller can persist both: a DEL after a failure or crash then undoes exactly
 * the plugins that ran, with what they returned.
 */
export async function cniAdd(
  list: Conflist,
  inv: CniInvocation,
  progress: (started: number, result?: CniResult) => void,
): Promise<CniResult> {
  let prev: CniResult | undefined;
  for (let i = 0; i < list.plugins.length; i++) {
    const plugin = list.plugins[i];
    progress(i + 1, prev);
    prev = JSON.parse(await runPlugin('ADD', plugin.type, pluginConfig(list, plugin, inv, prev), inv)) as CniResult;
  }
  if (!prev) throw new PluginError(list.name, 'ADD', 'the network has no plugins');
  progress(list.plugins.length, prev);
  return prev;
}

/** CNI DEL of every plugin in reverse order; all run even if one fails, then the first failure is thrown. */
export async function cniDel(list: Conflist, inv: CniInvocation, result?: CniResult): Promise<void> {
  const failures: PluginError[] = [];
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await runPlugin('DEL', plugin.type, pluginConfig(list, plugin, inv, result), inv);
    } catch (e) {
      // A plugin that cannot be found cannot have set anything up.
      if (!(e instanceof PluginError && e.command === 'find')) failures.push(e as PluginError);
    }
  }
  if (failures.length) throw failures[0];
}

/** Brings up lo in the namespace (runtimes other than runc may leave it down). */
export async function loopbackUp(inv: CniInvocation): Promise<void> {
  const conf = { cniVersion: '1.0.0', name: 'lo', type: 'loopback' };
  await runPlugin('ADD', 'loopback', conf, { ...inv, ifname: 'lo', capabilityArgs: {} });
}
