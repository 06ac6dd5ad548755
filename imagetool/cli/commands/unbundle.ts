// rocker-image unbundle DIR: unmount a bundle's rootfs and remove the bundle.
import { resolve } from 'node:path';
import { removeBundle } from '../../bundle/unbundle.js';
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'unbundle <dir>',
  describe: 'unmount and remove a bundle made by rocker-image bundle',
  async run(_ctx, a) {
    await removeBundle(resolve(String(a.dir)));
  },
};
export default command;
