import { createRunnerLogger, startRunner, type RunningRunner } from '@hangar/runner';
import type { Runner } from '@hangar/api';
import { HttpClient } from '../http-client.js';
import type { TestControlPlane } from './control-plane.js';

/**
 * A real runner in this process, enrolled with the test control plane under `name`, serving its
 * gateway on 127.0.0.1:0 and running real sandboxes. Resolves once the control plane lists it
 * online.
 */
export async function startTestRunner(
  cp: TestControlPlane,
  options: { name: string; dataDir: string },
): Promise<RunningRunner> {
  const api = new HttpClient({ baseUrl: cp.url, token: cp.token, service: 'control plane' });
  const created = await api.post<{ enrollmentToken: string; runner: Runner }>('/v1/runners', {
    name: options.name,
  });
  const runner = await startRunner(
    {
      controlPlaneUrl: cp.url,
      dataDir: options.dataDir,
      enrollmentToken: created.enrollmentToken,
      gatewayHost: '127.0.0.1',
      gatewayPort: 0,
      stopEnvironmentsOnExit: true,
      localRepositoryRoots: ['/'],
      logLevel: 'silent',
    },
    { logger: createRunnerLogger({ level: 'silent' }) },
  );
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const { runners } = await api.get<{ runners: Runner[] }>('/v1/runners');
    if (runners.find((item) => item.id === runner.runnerId)?.state === 'online') return runner;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await runner.close();
  throw new Error(`runner ${runner.runnerId} did not come online within 30 s`);
}
