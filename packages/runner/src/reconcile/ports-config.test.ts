import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { resolveRunnerConfig } from '../config.js';
import { noPortsConfig } from '../devcontainer/index.js';
import { makeRepo, makeTempDir } from '../git/testing/index.js';
import { MemoryProvider } from '../providers/memory-provider.js';
import { StateStore } from '../state-store.js';
import { Reconciler } from './reconciler.js';

const devcontainer = JSON.stringify({
  forwardPorts: [3000, 'localhost:9229'],
  portsAttributes: { '3000': { label: 'Web', onAutoForward: 'openBrowser' } },
});

test('the reconciler keeps the devcontainer port settings, across its own restart', async () => {
  const temp = await makeTempDir('hangar-ports-config-');
  try {
    await chmod(temp.path, 0o711);
    const repo = await makeRepo(join(temp.path, 'repo'), {
      files: { '.devcontainer/devcontainer.json': devcontainer },
    });
    const dataDir = join(temp.path, 'runner');
    const config = await resolveRunnerConfig({
      controlPlaneUrl: 'http://127.0.0.1:1',
      dataDir,
      localRepositoryRoots: [temp.path],
    });
    const store = new StateStore(dataDir, undefined);
    await store.init();
    const make = () =>
      new Reconciler({
        provider: new MemoryProvider(),
        store,
        config,
        logger: pino({ level: 'silent' }),
        gatewayUrl: () => 'http://127.0.0.1:7',
        report: () => undefined,
      });
    const id = 'env_portsconfig001';
    const reconciler = make();
    assert.deepEqual(reconciler.portsConfigOf(id), noPortsConfig, 'nothing before it converges');
    reconciler.update({
      id,
      orgId: 'org_portsconfig001',
      ownerId: 'usr_portsconfig001',
      name: 'ports',
      generation: 1,
      spec: { class: 'small', desiredPhase: 'running', repository: { url: repo.dir } },
      ports: [],
    });
    await reconciler.idle();
    const expected = {
      forwardPorts: [3000, 9229],
      attributes: [
        {
          match: { kind: 'port', port: 3000 },
          look: { label: 'Web', onAutoForward: 'openBrowser' },
        },
      ],
    };
    assert.deepEqual(reconciler.portsConfigOf(id), expected);

    const restarted = make();
    await restarted.restore();
    assert.deepEqual(restarted.portsConfigOf(id), expected, 'read back from state.json');
  } finally {
    await temp.remove();
  }
});
