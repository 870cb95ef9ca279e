import {
  generateEd25519,
  newId,
  privateKeyObject,
  sealSecret,
  type DesiredSecret,
  type Ed25519KeyPair,
} from '@hangar/api';

/** An author of sealed secrets for tests: a user id and an Ed25519 signing key. */
export interface TestAuthor {
  userId: string;
  keys: Ed25519KeyPair;
}

export function testAuthor(): TestAuthor {
  return { userId: newId('usr'), keys: generateEd25519() };
}

/**
 * A `DesiredSecret` sealed with `sealSecret` to one runner's encryption key, as the CLI seals
 * one and the control plane sends it. For tests that cannot go through `hangar secret set`.
 */
export function sealedSecret(options: {
  orgId: string;
  runnerId: string;
  runnerPublicKey: string;
  author: TestAuthor;
  name: string;
  value: string | Buffer;
  delivery?: DesiredSecret['delivery'];
  target?: string;
  scope?: DesiredSecret['scope'];
  scopeId?: string;
  version?: number;
}): DesiredSecret {
  const delivery = options.delivery ?? 'env';
  const scope = options.scope ?? 'org';
  const metadata = {
    name: options.name,
    scope,
    scopeId: options.scopeId ?? (scope === 'user' ? options.author.userId : ''),
    delivery,
    target: options.target ?? options.name,
    version: options.version ?? 1,
    authorId: options.author.userId,
  };
  const envelope = sealSecret({
    value: options.value,
    binding: { orgId: options.orgId, runnerId: options.runnerId, ...metadata },
    runnerPublicKey: options.runnerPublicKey,
    authorSigningKey: privateKeyObject(options.author.keys.privateKey),
  });
  return {
    id: newId('sec'),
    ...metadata,
    authorVerifyKey: options.author.keys.publicKey,
    envelope,
  };
}
