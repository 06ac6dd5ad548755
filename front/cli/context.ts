// What every rocker command receives: the global options, resolved once.
import type { Argv } from 'yargs';
import { Context as ImageContext } from '../../imagetool/cli/context.js';
import { runtimeCommand } from '../runtime.js';
import { Containers, type ContainerRecord } from '../state.js';

export interface FrontArgs {
  root: string;
  runtime: string;
  'runtime-root': string;
}

export class FrontContext {
  readonly containers: Containers;

  constructor(readonly global: FrontArgs) {
    this.containers = new Containers(global.root);
  }

  /** The runtime a new container is run with (a stored container keeps its own). */
  get runtime(): Pick<ContainerRecord, 'runtime' | 'runtimeRoot'> {
    return { runtime: runtimeCommand(this.global.runtime), runtimeRoot: this.global['runtime-root'] };
  }

  /** The image tool's context over the same store (bundle, pull). */
  image(): ImageContext {
    return new ImageContext({ root: this.global.root, quiet: true, 'insecure-registry': [] });
  }

  /** A container by name, id or unique id prefix, with its record. */
  async container(ref: string): Promise<ContainerRecord> {
    const id = await this.containers.find(ref);
    return this.containers.load(id);
  }

  out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** The shape of every module in cli/commands/ (as in the image tool). */
export interface FrontCommand {
  command: string;
  describe: string;
  builder?: (y: Argv<FrontArgs>) => Argv<FrontArgs>;
  run(ctx: FrontContext, args: Record<string, unknown>): Promise<number | void>;
}
