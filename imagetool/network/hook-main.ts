// rocker-network-hook: the OCI hook program. `attach` (a createRuntime hook)
// and `detach` (a poststop hook) read the container's state JSON on stdin.
// Kept apart from rocker-image's yargs CLI: it runs on every container start.
import { readFileSync } from 'node:fs';
import { parseFlags, type FlagSpec } from '../../runtime/cli/args.js';
import { networkDirs } from './dirs.js';
import { attach, detach } from './attach.js';
import { parsePublish } from './publish.js';
import { NetworkError } from './errors.js';

const FLAGS: FlagSpec[] = [
  { name: 'config-dir', type: 'string', description: 'network conflist directory' },
  { name: 'state-dir', type: 'string', description: 'network state directory' },
  { name: 'cni-path', type: 'string', description: 'CNI plugin directories' },
  { name: 'network', type: 'string', description: 'network to attach to' },
  { name: 'publish', type: 'list', description: 'published port' },
  { name: 'ip', type: 'string', description: 'requested address' },
  { name: 'hosts-file', type: 'string', description: "the bundle's generated hosts file" },
  { name: 'hostname', type: 'string', description: "the container's hostname" },
];

function readState(): { id: string; pid?: number } {
  let text = '';
  try {
    text = readFileSync(0, 'utf8');
    return JSON.parse(text);
  } catch (e) {
    throw new NetworkError(`reading the container state from stdin: ${(e as Error).message}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  const { flags } = parseFlags(rest, FLAGS, 'rocker-network-hook');
  const str = (k: string) => flags[k] as string | undefined;
  const d = networkDirs(str('config-dir'), str('state-dir'));
  const state = readState();
  if (verb === 'attach') {
    const network = str('network');
    if (!network) throw new NetworkError('attach: --network is required');
    await attach(d, state.id, Number(state.pid), {
      network,
      publish: ((flags.publish as string[] | undefined) ?? []).map(parsePublish),
      ip: str('ip'),
      cniPath: str('cni-path'),
      hostsFile: str('hosts-file'),
      hostname: str('hostname'),
    });
  } else if (verb === 'detach') {
    await detach(d, state.id, str('cni-path'));
  } else {
    throw new NetworkError(`usage: rocker-network-hook attach|detach [flags] < state.json (got ${JSON.stringify(verb)})`);
  }
}

main(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`rocker-network-hook: ${e.message}\n`);
  process.exitCode = 1;
});
