// rocker-image login [server]: check credentials and save them in docker's config.json.
import { UsageError } from '../../../runtime/errors.js';
import type { ImageCommand } from '../context.js';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

const command: ImageCommand = {
  command: 'login [server]',
  describe: 'log in to a registry (credentials go to $DOCKER_CONFIG/config.json)',
  builder: (y) =>
    y
      .option('username', { alias: 'u', type: 'string', describe: 'user name' })
      .option('password', { alias: 'p', type: 'string', describe: 'password' })
      .option('password-stdin', { type: 'boolean', default: false, describe: 'read the password from stdin' }),
  async run(ctx, args) {
    const username = args.username as string | undefined;
    const password = args['password-stdin'] ? await readStdin() : (args.password as string | undefined);
    if (!username || !password) throw new UsageError('login needs --username and --password (or --password-stdin)');
    const { login } = await import('../../registry/login.js');
    const host = await login(args.server as string | undefined, { username, password }, await ctx.registries(), ctx.global['insecure-registry']);
    if (!ctx.quiet) ctx.out(`Login Succeeded (${host})`);
  },
};
export default command;
