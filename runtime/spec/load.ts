// Loads a bundle: reads <bundle>/config.json, validates it against the
// runtime-spec schema (errors name the file and the JSON path), and resolves
// the rootfs relative to the bundle, refusing one that is missing.
import { readFileSync, statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { validateConfig } from '../../schemas/validators.js';
import { assertValid, parseJson } from './validate.js';
import { SpecError, SystemError } from '../errors.js';
import type { OciConfig } from './types.js';
import { checkSupported } from './support.js';

export interface Bundle {
  /** Absolute bundle directory. */
  dir: string;
  configFile: string;
  config: OciConfig;
  /** Absolute rootfs path. */
  rootfs: string;
}

export function loadBundle(bundleDir: string): Bundle {
  const dir = resolve(bundleDir);
  const configFile = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (e) {
    throw new SystemError('open', configFile, e as Error);
  }
  const config = parseJson(text, configFile) as OciConfig;
  assertValid(validateConfig, config, configFile);
  checkSupported(config, configFile);
  if (!config.root?.path) throw new SpecError(configFile, '$.root.path', 'root.path is required on Linux');
  if (!config.process) throw new SpecError(configFile, '$.process', 'process is required by create and run');
  const rootfs = resolve(dir, config.root.path);
  let isDir = false;
  try {
    isDir = statSync(rootfs).isDirectory();
  } catch {
    throw new SpecError(configFile, '$.root.path', `rootfs (${JSON.stringify(rootfs)}) does not exist`);
  }
  if (!isDir) throw new SpecError(configFile, '$.root.path', `rootfs (${JSON.stringify(rootfs)}) is not a directory`);
  return { dir, configFile, config, rootfs };
}
