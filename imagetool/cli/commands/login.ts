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
    let username = args.username as string | undefined;
    if (args.password !== undefined && !args['password-stdin']) {
      process.stderr.write('WARNING! Using --password on the command line is insecure (other users see it in ps, and it stays in shell history); use --password-stdin.\n');
    }
    let password = args['password-stdin'] ? await readStdin() : (args.password as string | undefined);
    // On a terminal, what is missing is asked for (the password without echo), as docker login does.
    if ((!username || !password) && process.stdin.isTTY && !args['password-stdin']) {
      const { ask, askSecret } = await import('../prompt.js');
      if (!username) username = (await ask('Username: ')).trim();
      if (!password) password = await askSecret('Password: ');
    }
    if (!username || !password) throw new UsageError('login needs --username and --password (or --password-stdin), or a terminal to ask on');
    const { login } = await import('../../registry/login.js');
    const host = await login(args.server as string | undefined, { username, password }, await ctx.registries(), ctx.global['insecure-registry']);
    if (!ctx.quiet) ctx.out(`Login Succeeded (${host})`);
  },
};
export default command;
