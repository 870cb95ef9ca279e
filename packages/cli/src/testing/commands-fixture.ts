import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { HttpClient } from '../http-client.js';
import { type CaptureOptions, runMain } from './capture-io.js';
import { startTestControlPlane, type TestControlPlane } from './control-plane.js';

export interface CommandsFixture {
  /** The control plane and its owner; set once the file's `before` hook has run. */
  readonly cp: TestControlPlane;
  /** A working directory of the test's own, removed afterwards. */
  readonly scratch: string;
  /** The owner's API client, for arranging and checking what the commands did. */
  readonly api: HttpClient;
  /** Runs `hangar <argv>` as the owner, in `scratch`. */
  run: (argv: string[], options?: CaptureOptions) => ReturnType<typeof runMain>;
}

/**
 * A real control plane for one test file of CLI commands: started before the file's tests and
 * stopped after them, with a scratch directory (named from `prefix`) and the owner's client.
 */
export function commandsFixture(prefix: string): CommandsFixture {
  let cp: TestControlPlane | undefined;
  let scratch = '';
  let api: HttpClient | undefined;
  before(async () => {
    cp = await startTestControlPlane();
    scratch = await mkdtemp(join(tmpdir(), prefix));
    api = new HttpClient({ baseUrl: cp.url, token: cp.token, service: 'control plane' });
  });
  after(async () => {
    await cp?.close();
    if (scratch !== '') await rm(scratch, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the control plane has not started yet');
    return value;
  };
  return {
    get cp() {
      return started(cp);
    },
    get scratch() {
      return scratch;
    },
    get api() {
      return started(api);
    },
    run: (argv, options = {}) => runMain(argv, { env: started(cp).env, cwd: scratch, ...options }),
  };
}
