// The runtime-spec state JSON, shaped like runc's output (field order included).
import { SPEC_VERSION } from '../spec/types.js';
import type { ContainerState } from './state-file.js';
import type { Status } from './status.js';

export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  /** "unknown" only in `list`, for a container whose state.json is broken. */
  status: Status | 'unknown';
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export function ociState(st: ContainerState, status: Status): OciState {
  const annotations = st.config.annotations;
  return {
    ociVersion: SPEC_VERSION,
    id: st.id,
    pid: status === 'stopped' ? 0 : st.pid,
    status,
    bundle: st.bundle,
    rootfs: st.rootfs,
    created: st.created,
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
    owner: st.owner,
  };
}
