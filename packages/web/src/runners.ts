import type { paths } from './api-types.js';
import type { Role } from './client.js';

type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

export type Runner = Json<paths['/v1/runners']['get']['responses'][200]>['runners'][number];

/** What `POST /v1/runners` answers: the runner and its enrollment token, shown once. */
export type CreatedRunner = Json<paths['/v1/runners']['post']['responses'][201]>;

/** The roles that create, disable, enable and rotate runners (the API decides in the end). */
export const runnerManagers: readonly Role[] = ['owner', 'admin', 'runner-admin'];

/** The command that starts the new runner, in the words `hangar runner create` prints. */
export function startCommandOf(controlPlaneUrl: string, created: CreatedRunner): string {
  return (
    `npx hangar runner --control-plane ${controlPlaneUrl} ` +
    `--enroll ${created.enrollmentToken} --data-dir /var/lib/hangar-runner-${created.runner.name}`
  );
}
