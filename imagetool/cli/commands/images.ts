// rocker-image images: list the store's refs (table, --format json, or -q ids).
import type { ImageCommand } from '../context.js';
import { listImages } from '../listing.js';
import { humanSize } from '../progress.js';

const UNITS: [number, string][] = [[365 * 86400, 'year'], [30 * 86400, 'month'], [86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];

/** "3 minutes ago", as docker prints creation times. */
function ago(timestamp: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(timestamp)) / 1000);
  if (!Number.isFinite(s)) return timestamp;
  const [size, unit] = UNITS.find(([u]) => s >= u) ?? UNITS[UNITS.length - 1];
  const k = Math.floor(s / size);
  return `${k} ${unit}${k === 1 ? '' : 's'} ago`;
}

const command: ImageCommand = {
  command: 'images',
  describe: 'list images in the store',
  builder: (y) => y.option('format', { choices: ['table', 'json'], default: 'table', describe: 'output format' }),
  async run(ctx, args) {
    const rows = await listImages(await ctx.openStore(), ctx.platform);
    if (args.format === 'json') {
      ctx.out(JSON.stringify(rows, null, 2));
    } else if (ctx.quiet) {
      for (const id of new Set(rows.map((r) => r.id.slice(7, 19)))) ctx.out(id);
    } else {
      const table = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'PLATFORM', 'SIZE']];
      for (const r of rows) table.push([r.repository, r.tag ?? '<none>', r.id.slice(7, 19), r.created ? ago(r.created) : '', r.platform, humanSize(r.size)]);
      const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
      for (const row of table) ctx.out(row.map((c, i) => c.padEnd(widths[i])).join('   ').trimEnd());
    }
  },
};
export default command;
