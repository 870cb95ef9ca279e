import type { SshKey } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';
import { resolveSshKey } from '../ssh-keys.js';

export const command = defineCommand({
  synopsis: '<key>',
  description:
    'Removes one of your SSH keys, by id or SHA256 fingerprint. Your live SSH sessions on the ' +
    'runners of your environments are ended.',
  spec: {
    positionals: [
      { name: 'key', required: true, describe: 'key id (key_…) or SHA256:… fingerprint' },
    ],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api } = await openSession(io, flags);
    const key = await resolveSshKey(api, positionals.key);
    const removed = await api.delete<SshKey>(`/v1/ssh-keys/${encodeURIComponent(key.id)}`);
    out.result(removed, () => [`removed ${removed.fingerprint} (${removed.id})`]);
    return 0;
  },
});
