// rocker-image logout [server]: forget saved credentials.
import { RockerError } from '../../../runtime/errors.js';
import type { ImageCommand } from '../context.js';

const command: ImageCommand = {
  command: 'logout [server]',
  describe: 'remove saved credentials for a registry',
  async run(ctx, args) {
    const { logout } = await import('../../registry/login.js');
    const { host, removed } = await logout(args.server as string | undefined);
    if (!removed) throw new RockerError(`not logged in to ${host}`);
    if (!ctx.quiet) ctx.out(`Removing login credentials for ${host}`);
  },
};
export default command;
