import type { Environment, Runner } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import type { HttpClient } from './http-client.js';

export const environmentIdPattern = /^env_[0-9a-z]{8,40}$/;
const runnerIdPattern = /^run_[0-9a-z]{8,40}$/;

export function listEnvironments(
  api: HttpClient,
  options: { includeDeleted?: boolean } = {},
): Promise<Environment[]> {
  return api
    .get<{ environments: Environment[] }>('/v1/environments', {
      includeDeleted: options.includeDeleted ? true : undefined,
    })
    .then((body) => body.environments);
}

export function getEnvironment(api: HttpClient, id: string): Promise<Environment> {
  return api.get<Environment>(`/v1/environments/${encodeURIComponent(id)}`);
}

/** An environment by id (`env_…`) or by name, names looked up in the list of your own. */
export async function resolveEnvironment(api: HttpClient, reference: string): Promise<Environment> {
  if (environmentIdPattern.test(reference)) return getEnvironment(api, reference);
  const found = (await listEnvironments(api)).find((environment) => environment.name === reference);
  if (!found) {
    throw new HangarError(
      'not_found',
      `no environment named ${reference}; \`hangar env list\` shows yours`,
    );
  }
  return found;
}

/** A runner id (`run_…`) as it is, or the id of the runner with that name. */
export async function resolveRunnerId(api: HttpClient, reference: string): Promise<string> {
  if (runnerIdPattern.test(reference)) return reference;
  const { runners } = await api.get<{ runners: Runner[] }>('/v1/runners');
  const found = runners.find((runner) => runner.name === reference);
  if (!found) {
    throw new HangarError(
      'not_found',
      `no runner named ${reference}; \`hangar runner list\` shows them`,
    );
  }
  return found.id;
}
