// rocker run [flags] IMAGE [COMMAND...]: bundle (the image tool's code and flags),
// monitor + runtime create, start; then print the id (-d) or follow the output
// and exit with the container's status.
import { readFile } from 'node:fs/promises';
import { bundleFlags, bundleOptions, resolveOrPull } from '../../../imagetool/cli/commands/bundle.js';
import { UsageError } from '../../../runtime/errors.js';
import { remove } from '../../lifecycle.js';
import { startMonitor } from '../../monitor.js';
import { runtimeOk } from '../../runtime.js';
import { parseDetachKeys } from '../../attach.js';
import type { Argv } from 'yargs';
import type { FrontArgs, FrontCommand } from '../context.js';
import { attachTo, detachKeysFlag, type Attached } from './attach.js';

const list = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

/** --env-file: KEY=VALUE (or KEY) lines; blank lines and # comments are skipped. */
async function envFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new UsageError(`--env-file ${path}: ${err.message}`);
  });
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

const command: FrontCommand = {
  command: 'run <image> [args..]',
  describe: 'run a command in a new container',
  builder: (y) =>
    detachKeysFlag(bundleFlags(y))
      .option('detach', { alias: 'd', type: 'boolean', describe: 'run in the background and print the container id' })
      .option('interactive', { alias: 'i', type: 'boolean', describe: 'keep stdin attached' })
      .option('name', { type: 'string', describe: 'the container name (unique)' })
      .option('rm', { type: 'boolean', describe: 'remove the container when it exits (with -d, its monitor does)' })
      .option('env-file', { type: 'string', describe: 'read environment variables from a file (repeatable)' }) as unknown as Argv<FrontArgs>,
  async run(ctx, a) {
    const image = String(a.image);
    const args = list(a.args);
    // With --rm, detaching would leave a container nothing removes: the keys go to it instead.
    const detachKeys = a.rm ? [] : parseDetachKeys(String(a['detach-keys']));
    const env = [...(await Promise.all(list(a['env-file']).map(envFile))).flat(), ...list(a.env)];
    const imageCtx = ctx.image();
    const store = await imageCtx.openStore();
    const resolved = await resolveOrPull(imageCtx, store, image);
    const options = { ...(await bundleOptions({ ...a, env })), limits: imageCtx.layerLimits(), args: args.length ? args : undefined };
    const { containers } = ctx;
    let attached: Attached | undefined;
    const c = await containers.create({ name: a.name === undefined ? undefined : String(a.name), image, command: args, ports: list(a.publish), autoRemove: Boolean(a.rm && a.detach) || undefined, stdin: Boolean(a.interactive) || undefined, ...ctx.runtime });
    try {
      const { createBundle } = await import('../../../imagetool/bundle/bundle.js');
      await createBundle(store, image, containers.paths(c.id).bundle, options, resolved);
      Object.assign(c, await startMonitor(containers, c, { tty: Boolean(a.tty), stdin: c.stdin }));
      await containers.save(c);
      if (!a.detach) attached = await attachTo(containers, c, { tty: Boolean(a.tty), stdin: Boolean(a.interactive), detachKeys });
      await runtimeOk(c, ['start', c.id]);
    } catch (err) {
      attached?.close();
      // A container that never ran is no container (nothing is left behind).
      await remove(containers, c.id, true).catch(() => {});
      throw err;
    }
    if (!attached) return ctx.out(c.id);
    const r = await attached.finish();
    if (r === 'detached') return 0;
    if (a.rm) await remove(containers, c.id, true);
    return r;
  },
};
export default command;
