import { RockerError } from '../../runtime/errors.js';

/** A layer that cannot be applied: names the layer and, when known, the entry. */
export class LayerError extends RockerError {
  constructor(readonly layer: string, readonly entry: string | undefined, reason: string) {
    super(`layer ${layer}${entry === undefined ? '' : `: entry "${entry}"`}: ${reason}`, { layer, entry });
  }
}
