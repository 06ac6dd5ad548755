// rocker-image unbundle DIR: unmount a bundle's rootfs and remove the bundle.
import { resolve } from 'node:path';
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'unbundle <dir>',
  describe: 'unmount and remove a bundle made by rocker-image bundle',
  builder: (y) => y.option('force', { alias: 'f', type: 'boolean', default: false, describe: 'remove it even while a container uses it' }),
  async run(_ctx, a) {
    // Loaded here: main.ts loads every command module to start any one of them.
    const { removeBundle } = await import('../../bundle/unbundle.js');
    await removeBundle(resolve(String(a.dir)), { force: Boolean(a.force) });
  },
};
export default command;
