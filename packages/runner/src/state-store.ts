import { mkdir, readFile, readdir, rename, rm, writeFile, chown } from 'node:fs/promises';
import { join } from 'node:path';
import type { DesiredEnvironment, EnvironmentStatus } from '@hangar/api';
import type { PortsConfig } from './devcontainer/index.js';

/** What the runner remembers of one environment between its own restarts. */
export interface LocalEnvironment {
  desired: DesiredEnvironment;
  status: EnvironmentStatus;
  /** The repository is cloned (or the empty workspace made) and complete. */
  prepared: boolean;
  commit?: string;
  /** Every once-per-environment lifecycle hook has run: later boots are starts. */
  created: boolean;
  /** Lifecycle hooks that already ran to completion: each runs once per environment. */
  hooksDone: string[];
  /** devcontainer `remoteEnv`, resolved: set for every command the gateway runs. */
  remoteEnv?: Record<string, string>;
  /** devcontainer `forwardPorts` and `portsAttributes`, for the gateway's port list. */
  ports?: PortsConfig;
  /** Set before a sandbox boot and cleared once postStartCommand ran for that boot. */
  postStartPending: boolean;
  /**
   * `id@vN` of each secret the sandbox started with: a runner restarted while it runs opens
   * these again, and no secret set since. Absent in state saved before this was kept.
   */
  startedSecrets?: string[];
}

/**
 * One directory per environment under `<data dir>/environments/<id>`: `state.json`, the
 * `workspace` volume and the lifecycle log. Writes are atomic (write then rename), so a runner
 * killed mid-write finds either the old state or the new one.
 */
export class StateStore {
  readonly root: string;

  constructor(
    dataDir: string,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {
    this.root = join(dataDir, 'environments');
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  workspaceDir(id: string): string {
    return join(this.dir(id), 'workspace');
  }

  lifecycleLogPath(id: string): string {
    return join(this.dir(id), 'lifecycle.log');
  }

  async init(): Promise<void> {
    // 0711: the sandbox user must traverse to its own workspace, but may list nothing here.
    await mkdir(this.root, { recursive: true, mode: 0o711 });
  }

  async ensureDir(id: string): Promise<void> {
    await mkdir(this.dir(id), { recursive: true, mode: 0o711 });
  }

  /** Makes an empty workspace directory owned by the sandbox user. */
  async makeEmptyWorkspace(id: string): Promise<void> {
    const path = this.workspaceDir(id);
    await mkdir(path, { recursive: true, mode: 0o755 });
    if (this.owner) await chown(path, this.owner.uid, this.owner.gid);
  }

  async removeWorkspace(id: string): Promise<void> {
    await rm(this.workspaceDir(id), { recursive: true, force: true });
  }

  async load(id: string): Promise<LocalEnvironment | undefined> {
    try {
      return JSON.parse(
        await readFile(join(this.dir(id), 'state.json'), 'utf8'),
      ) as LocalEnvironment;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async save(state: LocalEnvironment): Promise<void> {
    await this.ensureDir(state.desired.id);
    const path = join(this.dir(state.desired.id), 'state.json');
    await writeFile(`${path}.tmp`, JSON.stringify(state), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }

  async list(): Promise<LocalEnvironment[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const states = await Promise.all(names.map((name) => this.load(name)));
    return states.filter((state): state is LocalEnvironment => state !== undefined);
  }

  /** Removes everything of the environment: state, volume and logs. */
  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }
}
