import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { captureLogs } from '../support/capture-logs.js';
import { devcontainer, repository } from '../support/repos.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { execWith, startSystem } from '../support/system.js';

async function filesUnder(dir: string): Promise<Buffer> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile());
  return Buffer.concat(await Promise.all(files.map((f) => readFile(join(f.parentPath, f.name)))));
}

test('no exec output, file content or lifecycle output reaches the control plane', async () => {
  const { logger, text: loggedText } = captureLogs();
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>> | undefined;
  const system = await startSystem({
    logger,
    runnerRoute: async (url) => {
      const { hostname, port } = new URL(url);
      proxy = await startRecordingProxy({ host: hostname, port: Number(port) });
      return proxy.url;
    },
  });
  try {
    const outputMarker = 'exec-output-6f1d2a';
    const fileMarker = 'file-content-93bc7e';
    const lifecycleMarker = 'lifecycle-output-51e0aa';
    const repo = await repository(system.dir, 'private', {
      files: {
        '.devcontainer.json': devcontainer({ postCreateCommand: `echo ${lifecycleMarker}` }),
        'source.txt': 'source-code-77d3c1',
      },
    });
    const environment = await system.createAndWait({ repository: { url: repo.dir } });
    const grant = await system.grant(environment.id, ['exec', 'files:read', 'files:write']);
    const printed = await execWith(grant, environment.id, [
      'sh',
      '-c',
      `echo ${outputMarker}; cat source.txt`,
    ]);
    assert.match(printed.out.toString(), new RegExp(outputMarker));
    await fetch(`${grant.gatewayUrl}/v1/environments/${environment.id}/files?path=secret.txt`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${grant.token}`,
        'content-type': 'application/octet-stream',
      },
      body: fileMarker,
    });
    const read = await fetch(
      `${grant.gatewayUrl}/v1/environments/${environment.id}/files?path=secret.txt`,
      {
        headers: { authorization: `Bearer ${grant.token}` },
      },
    );
    assert.equal(await read.text(), fileMarker);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const wire = proxy?.recorded() ?? Buffer.alloc(0);
    assert.ok(wire.includes('environment.exec'), 'the proxy saw the runner traffic');
    const controlPlaneFiles = await filesUnder(join(system.dir, 'control-plane'));
    const controlPlaneLogs = loggedText();
    for (const marker of [outputMarker, fileMarker, lifecycleMarker, 'source-code-77d3c1']) {
      assert.ok(!wire.includes(marker), `${marker} crossed the runner connection`);
      assert.ok(!controlPlaneFiles.includes(marker), `${marker} is in the control plane data`);
      assert.ok(!controlPlaneLogs.includes(marker), `${marker} is in a log line`);
    }
  } finally {
    await system.close();
    await proxy?.close();
  }
});
