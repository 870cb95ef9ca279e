import type { DesiredAgentTask } from '@hangar/api';
import type { OpenedSecret } from '../secrets/open.js';

export type ModelKey = { ok: true; value: string | undefined } | { ok: false; message: string };

/**
 * The task's model key: the environment's opened secret with delivery `model` named
 * `model.keySecret` (such secrets reach the loop only, never the environment). None is needed
 * when the task names no key secret.
 */
export function modelKeyOf(
  secrets: readonly OpenedSecret[],
  task: Pick<DesiredAgentTask, 'model' | 'environmentId'>,
): ModelKey {
  const name = task.model.keySecret;
  if (name === undefined) return { ok: true, value: undefined };
  const found = secrets.filter((secret) => secret.delivery === 'model' && secret.name === name);
  // The narrowest scope wins, as for the environment's own secrets: user, project, org.
  const rank = { user: 0, project: 1, org: 2 } as const;
  const secret = found.sort((a, b) => rank[a.scope] - rank[b.scope])[0];
  if (!secret) {
    return {
      ok: false,
      message:
        `the model key secret ${name} is not delivered to environment ${task.environmentId}; ` +
        'set it with delivery model (hangar secret set), restart the environment, and run the ' +
        'task again',
    };
  }
  return { ok: true, value: secret.value.toString('utf8').replace(/\r?\n$/, '') };
}
