// rocker-image images: list the store's refs (table, --format json, or -q ids).
import type { ImageCommand } from '../context.js';
import { listImages } from '../listing.js';
import { humanSize } from '../progress.js';

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
      for (const r of rows) table.push([r.repository, r.tag ?? '<none>', r.id.slice(7, 19), r.created ?? '', r.platform, humanSize(r.size)]);
      const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
      for (const row of table) ctx.out(row.map((c, i) => c.padEnd(widths[i])).join('   ').trimEnd());
    }
  },
};
export default command;
