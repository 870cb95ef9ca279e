import type { SshKey } from '@hangar/api';
import { defineCommand } from '../command.js';
import { table } from '../output.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '',
  description: 'Lists your registered SSH keys: id, fingerprint, type and size, name, added.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const { sshKeys } = await api.get<{ sshKeys: SshKey[] }>('/v1/ssh-keys');
    out.result({ sshKeys }, () => {
      if (sshKeys.length === 0)
        return ['no SSH keys; add one with `hangar ssh-key add <file>.pub`'];
      return table(
        ['ID', 'FINGERPRINT', 'TYPE', 'NAME', 'ADDED'],
        sshKeys.map((key) => [
          key.id,
          key.fingerprint,
          `${key.keyType} ${key.bits}`,
          key.name ?? '-',
          key.createdAt,
        ]),
      );
    });
    return 0;
  },
});
