import type { WhoAmIResponse } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '',
  description:
    'Shows who the API token belongs to, its organization (the name `hangar login --org` ' +
    'takes), its scopes, and where it was found.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api, credentials } = await openSession(io, flags);
    const me = await api.get<WhoAmIResponse>('/v1/whoami');
    const value = {
      ...me,
      controlPlaneUrl: credentials.controlPlaneUrl,
      tokenSource: credentials.tokenSource,
    };
    out.result(value, () => [
      `user:          ${me.userId} (${me.role})`,
      `organization:  ${me.orgName} (${me.orgId})`,
      `token:         ${me.tokenId}, from ${credentials.tokenSource}`,
      `scopes:        ${me.scopes.join(' ')}`,
      `control plane: ${credentials.controlPlaneUrl}`,
    ]);
    return 0;
  },
});
