import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HangarError } from '@hangar/api';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Makes sure one runner process uses a data directory: two would share one identity and knock
 * each other off the control plane. A lock left by a runner that died is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<{ release(): Promise<void> }> {
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  const path = join(dataDir, 'runner.pid');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new HangarError(
        'conflict',
        `another runner (pid ${holder}) is using ${dataDir}; stop it, or give this one its own ` +
          '--data-dir (and its own enrollment token)',
      );
    }
    await rm(path, { force: true });
  }
  throw new HangarError('conflict', `cannot lock ${dataDir}; remove ${path} if no runner uses it`);
}
