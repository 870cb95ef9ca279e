import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GeneratedKey {
  /** The .pub file's one line, comment included. */
  line: string;
  /** The base64 key blob, the second field of the line. */
  blob: string;
  /** What `ssh-keygen -l -E sha256` prints for it. */
  fingerprint: string;
  bits: number;
}

/** Keys made by the real ssh-keygen, in a temporary folder removed by `remove`. */
export async function keyMaker() {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-keys-'));
  let count = 0;
  return {
    async make(type: 'ed25519' | 'ecdsa' | 'rsa', bits?: number): Promise<GeneratedKey> {
      count += 1;
      const path = join(dir, `key${count}`);
      const size = bits === undefined ? [] : ['-b', String(bits)];
      await run('ssh-keygen', [
        '-q',
        '-t',
        type,
        ...size,
        '-N',
        '',
        '-C',
        'alice@laptop',
        '-f',
        path,
      ]);
      const line = (await readFile(`${path}.pub`, 'utf8')).trim();
      const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]);
      const [printedBits = '', fingerprint = ''] = stdout.trim().split(' ');
      return { line, blob: line.split(' ')[1] ?? '', fingerprint, bits: Number(printedBits) };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
