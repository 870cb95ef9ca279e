import type { SshKey } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';
import { readPublicKey } from '../ssh-keys.js';

export const command = defineCommand({
  synopsis: '<public-key-file | -> [--name NAME]',
  description:
    'Registers an SSH public key (such as ~/.ssh/id_ed25519.pub, or - for stdin), so that ' +
    '`ssh` and `hangar ssh` open your environments with it. Types: ssh-ed25519, ecdsa-sha2-' +
    'nistp256/384/521, ssh-rsa of at least 2048 bits. The comment is not kept; a private key ' +
    'is refused before anything is sent.',
  spec: {
    positionals: [
      { name: 'file', required: true, describe: 'the .pub file, or - to read the line from stdin' },
    ],
    flags: {
      ...apiFlags,
      name: { type: 'string', valueName: 'NAME', describe: 'a label, such as the machine' },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    const publicKey = await readPublicKey(positionals.file, io);
    const { api } = await openSession(io, flags);
    const key = await api.post<SshKey>('/v1/ssh-keys', {
      publicKey,
      ...(flags.name !== undefined ? { name: flags.name } : {}),
    });
    out.result(key, () => [
      `added ${key.keyType} key ${key.fingerprint} (${key.id})${key.name ? ` "${key.name}"` : ''}`,
    ]);
    return 0;
  },
});
