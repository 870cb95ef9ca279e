import { Type, type Static } from 'typebox';
import { Id, Timestamp } from './common.js';

/** The public key types Hangar accepts, for users' keys and runners' host keys alike. */
export const sshKeyTypes = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
] as const;

export type SshKeyType = (typeof sshKeyTypes)[number];

export const AddSshKeyBody = Type.Object(
  {
    publicKey: Type.String({
      minLength: 1,
      maxLength: 16384,
      description:
        'one OpenSSH public key line, as in id_ed25519.pub: "<type> <base64> [comment]"; ' +
        'types: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa of at least 2048 bits',
    }),
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'a label of your choice, such as the machine the key lives on',
      }),
    ),
  },
  { additionalProperties: false },
);

export type AddSshKeyBody = Static<typeof AddSshKeyBody>;

export const SshKeySchema = Type.Object(
  {
    id: Id,
    userId: Id,
    name: Type.Optional(Type.String()),
    keyType: Type.String(),
    bits: Type.Integer({ description: 'the key size in bits' }),
    fingerprint: Type.String({ description: 'SHA256:<base64>, as ssh-keygen -l prints it' }),
    publicKey: Type.String({ description: '"<type> <base64>", without the comment' }),
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);

export type SshKey = Static<typeof SshKeySchema>;

export const SshKeyList = Type.Object(
  { sshKeys: Type.Array(SshKeySchema) },
  { additionalProperties: false },
);
