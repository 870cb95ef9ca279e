import type { Environment } from '@hangar/api';
import { defineCommand } from '../command.js';
import { resolveEnvironment } from '../environments.js';
import { apiFlags, openSession } from '../session.js';

function repositoryText(spec: Environment['spec']): string {
  if (!spec.repository) return '(empty workspace)';
  const ref = spec.repository.ref ? ` @ ${spec.repository.ref}` : '';
  return `${spec.repository.url}${ref}`;
}

/** The lines `env get` prints for a person. */
export function describeEnvironment(environment: Environment): string[] {
  const { spec, status } = environment;
  const lines = [
    `name:        ${environment.name}`,
    `id:          ${environment.id}`,
    `phase:       ${status.phase} (desired ${spec.desiredPhase}, since ${status.phaseChangedAt})`,
    `runner:      ${environment.runnerId}`,
    `class:       ${spec.class}`,
    `project:     ${spec.project ?? '(none)'}`,
    `repository:  ${repositoryText(spec)}`,
  ];
  if (spec.devcontainerPath) lines.push(`devcontainer: ${spec.devcontainerPath}`);
  if (status.workspaceFolder) lines.push(`workspace:   ${status.workspaceFolder}`);
  if (status.gatewayUrl) lines.push(`gateway:     ${status.gatewayUrl}`);
  lines.push(`created:     ${environment.createdAt}`);
  if (environment.lastActiveAt) lines.push(`last active: ${environment.lastActiveAt}`);
  if (status.failure) {
    lines.push(`failure:     ${status.failure.reason}: ${status.failure.message}`);
  }
  if (status.steps.length > 0) {
    lines.push('steps:');
    for (const step of status.steps) {
      const exit = step.exitCode !== undefined ? ` exit ${step.exitCode}` : '';
      lines.push(`  ${step.name}: ${step.state}${exit}`);
    }
  }
  if (status.conditions.length > 0) {
    lines.push('conditions:');
    for (const condition of status.conditions) {
      lines.push(
        `  ${condition.type}=${condition.status} ${condition.reason}: ${condition.message}`,
      );
    }
  }
  return lines;
}

export const command = defineCommand({
  synopsis: '<env>',
  description: 'Shows one environment, by id or name: spec, phase, steps, conditions, failure.',
  spec: {
    positionals: [{ name: 'env', required: true, describe: 'environment id or name' }],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api } = await openSession(io, flags);
    const environment = await resolveEnvironment(api, positionals.env);
    out.result(environment, () => describeEnvironment(environment));
    return 0;
  },
});
