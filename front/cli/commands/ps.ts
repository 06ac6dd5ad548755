// rocker ps [-a] [-q] [--format json]: id, image, command, created, status (with
// the exit code), ports, name. A half-made container is listed as Dead.
import { statusOf, type Status } from '../../lifecycle.js';
import type { FrontCommand } from '../context.js';

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  if (s < 3600) return `${Math.round(s / 60)} minutes`;
  if (s < 86400) return `${Math.round(s / 3600)} hours`;
  return `${Math.round(s / 86400)} days`;
}

function statusText(s: Status, created: string | undefined): string {
  switch (s.state) {
    case 'exited':
      return `Exited (${s.exit.exitCode}) ${ago(s.exit.exitedAt)} ago`;
    case 'running':
      return `Up ${created ? ago(created) : ''}`.trim();
    case 'paused':
      return `Up ${created ? ago(created) : ''} (Paused)`.trim();
    case 'created':
      return 'Created';
    case 'dead':
      return 'Dead';
  }
}

/** "8080:80" -> "0.0.0.0:8080->80/tcp" */
function portText(p: string): string {
  const [spec, proto = 'tcp'] = p.split('/');
  const parts = spec.split(':');
  const [ip, host, ctr] = parts.length === 3 ? parts : ['0.0.0.0', ...parts];
  return `${ip}:${host}->${ctr}/${proto}`;
}

const command: FrontCommand = {
  command: 'ps',
  describe: 'list containers (running ones; -a for all)',
  builder: (y) =>
    y
      .option('all', { alias: 'a', type: 'boolean', describe: 'show all containers' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'only ids' })
      .option('format', { type: 'string', choices: ['table', 'json'], default: 'table', describe: 'output format (json: one object a line)' }),
  async run(ctx, a) {
    const { containers } = ctx;
    const rows = [];
    for (const id of await containers.ids()) {
      const c = await containers.load(id).catch(() => undefined);
      const s = await statusOf(containers, c, id);
      if (!a.all && s.state !== 'running' && s.state !== 'paused') continue;
      rows.push({
        ID: id.slice(0, 12),
        Id: id,
        Image: c?.image ?? '',
        Command: c ? JSON.stringify((c.command.length ? c.command : ['(image)']).join(' ')) : '',
        CreatedAt: c?.created ?? '',
        Status: statusText(s, c?.created),
        State: s.state,
        ExitCode: s.state === 'exited' ? s.exit.exitCode : undefined,
        Ports: (c?.ports ?? []).map(portText).join(', '),
        Names: c?.name ?? '',
      });
    }
    rows.sort((x, y) => y.CreatedAt.localeCompare(x.CreatedAt));
    if (a.quiet) return void rows.forEach((r) => ctx.out(r.ID));
    if (a.format === 'json') return void rows.forEach((r) => ctx.out(JSON.stringify(r)));
    const table = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']];
    for (const r of rows) table.push([r.ID, r.Image, r.Command.length > 22 ? `${r.Command.slice(0, 20)}…"` : r.Command, r.CreatedAt ? `${ago(r.CreatedAt)} ago` : '', r.Status, r.Ports, r.Names]);
    const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
    for (const row of table) ctx.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join(''));
  },
};
export default command;
