// What every rocker-image command receives: the global options, resolved once.
import type { Argv } from 'yargs';
import { Store } from '../store/index.js';
import { parsePlatform } from '../store/platform.js';
import type { Platform } from '../store/mediatypes.js';
import { loadRegistriesConfig, type RegistriesConfig } from '../registry/hosts.js';
import { layerLimits, type LayerLimits } from '../unpack/limits.js';

export interface GlobalArgs {
  root: string;
  quiet: boolean;
  'insecure-registry': string[];
  platform?: string;
  'max-layer-size'?: string;
  'max-layer-ratio'?: string;
}

export class Context {
  readonly platform: Platform;
  private store?: Promise<Store>;

  constructor(readonly global: GlobalArgs) {
    this.platform = parsePlatform(global.platform);
  }

  get quiet(): boolean {
    return this.global.quiet;
  }

  openStore(): Promise<Store> {
    this.store ??= Store.open(this.global.root);
    return this.store;
  }

  /** What a layer may expand to: --max-layer-size/--max-layer-ratio, else the environment, else the defaults. */
  layerLimits(): LayerLimits {
    return layerLimits({ maxSize: this.global['max-layer-size'], maxRatio: this.global['max-layer-ratio'] });
  }

  registries(): Promise<RegistriesConfig> {
    return loadRegistriesConfig(this.global.root);
  }

  out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/**
 * The shape of every module in cli/commands/. main.ts loads them all to build
 * the help, so a module imports its heavy parts (registry client, tar) in run().
 */
export interface ImageCommand {
  /** yargs command string, e.g. 'tag <source> <target>'. */
  command: string;
  describe: string;
  builder?: (y: Argv<GlobalArgs>) => Argv<GlobalArgs>;
  /** Returns the exit status (0 when omitted). */
  run(ctx: Context, args: Record<string, unknown>): Promise<number | void>;
}
