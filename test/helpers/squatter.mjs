// A local user (nobody) who tries to take a lock of rocker's before rocker does:
// it binds the abstract unix socket names rocker's locks once were (any user can
// bind one, in the host's network namespace) and opens the lock file for writing,
// then stays alive holding whatever it got until killed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export const NOBODY = 65534;

/** Resolves { child, report } once the squatter says what it got: report.bound
 *  (names it now holds) and report.open (the lock file: 'ok' or the error code). */
export async function squatAsNobody({ names, file }) {
  const code = `
    const net = require('node:net');
    const fs = require('node:fs');
    const names = ${JSON.stringify(names)};
    const report = { bound: [], open: 'ok' };
    try { fs.openSync(${JSON.stringify(file)}, 'r+'); } catch (e) { report.open = e.code; }
    let pending = names.length;
    const done = () => { if (--pending <= 0) process.stdout.write(JSON.stringify(report) + '\\n'); };
    if (!pending) { pending = 1; done(); }
    for (const name of names) {
      const s = net.createServer();
      s.once('error', done);
      s.listen(name, () => { report.bound.push(name); done(); });
    }
    setInterval(() => {}, 1 << 30);`;
  const child = spawn(process.execPath, ['-e', code], { uid: NOBODY, gid: NOBODY, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout, 'data');
  return { child, report: JSON.parse(String(line)) };
}
