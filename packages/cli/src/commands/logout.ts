import { rm } from 'node:fs/promises';
import { HangarError } from '@hangar/api/errors.js';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '[--url URL] [--token TOKEN]',
  description:
    'Ends the session (or revokes the token) in use, at the control plane, and removes the ' +
    'credentials file it came from. The next request with it is refused.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api, credentials } = await openSession(io, flags);
    const fromFile = credentials.tokenSource.startsWith('/');
    let ended: { tokenId: string; revokedAt: string } | undefined;
    try {
      ended = await api.post<{ tokenId: string; revokedAt: string }>('/v1/auth/logout');
    } catch (error) {
      // A token the control plane already refuses is as good as ended: only the file is left.
      const refused = error instanceof HangarError && error.code === 'unauthenticated';
      if (!refused && !(error instanceof HangarError && error.code === 'token_expired')) {
        throw error;
      }
      out.warn(`the control plane already refuses this token (${error.message})`);
    }
    if (fromFile) await rm(credentials.tokenSource, { force: true });
    const value = {
      ...(ended ?? {}),
      removedCredentials: fromFile ? credentials.tokenSource : null,
    };
    out.result(value, () => [
      ended ? `signed out: ${ended.tokenId} ended at ${ended.revokedAt}` : 'signed out',
      fromFile
        ? `removed ${credentials.tokenSource}`
        : `the token came from ${credentials.tokenSource}; nothing was removed`,
    ]);
    return 0;
  },
});
