import {
  generateEd25519,
  privateKeyObject,
  sealSecret,
  type Ed25519KeyPair,
  type SecretDelivery,
  type SecretRecipient,
  type SecretScope,
  type SigningKey,
} from '@hangar/api';
import type { ApiResponse, TestControlPlane } from './harness.js';

export interface TestAuthor {
  token: string;
  userId: string;
  orgId: string;
  keys: Ed25519KeyPair;
  signingKeyId: string;
}

/** Registers a fresh signing key for the user of `token` (the owner's by default). */
export async function testAuthor(
  t: TestControlPlane,
  user: { token: string; userId: string; orgId: string } = t.owner,
): Promise<TestAuthor> {
  const keys = generateEd25519();
  const added = await t.request<SigningKey>('POST', '/v1/signing-keys', {
    token: user.token,
    body: { publicKey: keys.publicKey },
  });
  if (added.status !== 201) throw new Error(`signing key refused: ${JSON.stringify(added.body)}`);
  return { ...user, keys, signingKeyId: added.body.id };
}

export interface TestSecret {
  name: string;
  value: string;
  scope?: SecretScope;
  project?: string;
  delivery?: SecretDelivery;
  target?: string;
  version?: number;
}

/**
 * The body `PUT /v1/secrets` takes, sealed the way the CLI seals: one envelope per recipient
 * the control plane names now, signed by `author`.
 */
export async function sealedBody(t: TestControlPlane, author: TestAuthor, secret: TestSecret) {
  const scope = secret.scope ?? 'user';
  const query = `scope=${scope}${secret.project ? `&project=${secret.project}` : ''}`;
  const listed = await t.request<{ recipients: SecretRecipient[] }>(
    'GET',
    `/v1/secrets/recipients?${query}`,
    { token: author.token },
  );
  const recipients = listed.body.recipients;
  const delivery = secret.delivery ?? 'env';
  const target = secret.target ?? secret.name;
  const version = secret.version ?? 1;
  const scopeId = scope === 'org' ? '' : scope === 'user' ? author.userId : (secret.project ?? '');
  return {
    name: secret.name,
    scope,
    ...(secret.project ? { project: secret.project } : {}),
    delivery,
    target,
    version,
    signingKeyId: author.signingKeyId,
    ciphertexts: recipients.map((recipient) => ({
      runnerId: recipient.runnerId,
      envelope: sealSecret({
        value: secret.value,
        binding: {
          orgId: author.orgId,
          scope,
          scopeId,
          name: secret.name,
          version,
          delivery,
          target,
          runnerId: recipient.runnerId,
          authorId: author.userId,
        },
        runnerPublicKey: recipient.encryptionKey,
        authorSigningKey: privateKeyObject(author.keys.privateKey),
      }),
    })),
  };
}

/** Seals and stores a secret as `author`. */
export async function putSecret(
  t: TestControlPlane,
  author: TestAuthor,
  secret: TestSecret,
): Promise<ApiResponse<Record<string, unknown>>> {
  const body = await sealedBody(t, author, secret);
  return t.request('PUT', '/v1/secrets', { token: author.token, body });
}
