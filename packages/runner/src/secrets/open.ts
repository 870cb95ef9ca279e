import {
  HangarError,
  openSecret,
  publicKeyObject,
  secretTargetProblem,
  secretValueProblem,
  type DesiredEnvironment,
  type DesiredSecret,
  type SecretBinding,
  type X25519KeyPair,
} from '@hangar/api';

/** A secret opened for one environment: its metadata and its value, held in memory only. */
export interface OpenedSecret {
  id: string;
  name: string;
  scope: DesiredSecret['scope'];
  scopeId: string;
  version: number;
  delivery: DesiredSecret['delivery'];
  target: string;
  value: Buffer;
}

/** The failure reason of an environment whose secret does not open on this runner. */
export const secretUnreadableReason = 'secret_unreadable';

/** `org/NAME`, `project:web/NAME` or `user/NAME`: how messages and audit records name one. */
export function secretLabel(secret: Pick<DesiredSecret, 'scope' | 'scopeId' | 'name'>): string {
  return secret.scope === 'project'
    ? `project:${secret.scopeId}/${secret.name}`
    : `${secret.scope}/${secret.name}`;
}

/** The binding a secret was sealed under, rebuilt from its metadata and this runner's facts. */
export function bindingOf(
  desired: Pick<DesiredEnvironment, 'orgId'>,
  secret: DesiredSecret,
  runnerId: string,
): SecretBinding {
  return {
    orgId: desired.orgId,
    scope: secret.scope,
    scopeId: secret.scopeId,
    name: secret.name,
    version: secret.version,
    delivery: secret.delivery,
    target: secret.target,
    runnerId,
    authorId: secret.authorId,
  };
}

/** The `hangar secret set` flag of a secret's scope. */
function scopeFlag(secret: DesiredSecret): string {
  if (secret.scope === 'project') return `--project ${secret.scopeId}`;
  return secret.scope === 'org' ? '--org' : '--user';
}

function unreadable(secret: DesiredSecret, why: string): HangarError {
  return new HangarError(
    'invalid_request',
    `the secret ${secretLabel(secret)} (version ${secret.version}) cannot be opened on this ` +
      `runner (${why}); set it again with hangar secret set ${secret.name} ` +
      `${scopeFlag(secret)}, then start the environment again`,
    { details: { reason: secretUnreadableReason, step: 'secrets', secret: secret.name } },
  );
}

function openOne(
  desired: DesiredEnvironment,
  secret: DesiredSecret,
  runnerId: string,
  key: X25519KeyPair,
): OpenedSecret {
  let authorVerifyKey;
  try {
    authorVerifyKey = publicKeyObject(secret.authorVerifyKey);
  } catch {
    throw unreadable(secret, "its author's verify key is not an Ed25519 key");
  }
  const opened = openSecret({
    envelope: secret.envelope,
    binding: bindingOf(desired, secret, runnerId),
    runnerPrivateKey: key.privateKey,
    runnerPublicKey: key.publicKey,
    authorVerifyKey,
  });
  if (!opened.ok) {
    const why = {
      malformed: 'its ciphertext is malformed',
      bad_signature: 'it was not sealed by its author for this name, version and runner',
      wrong_binding: 'it was sealed to another key or for another name, version or runner',
    }[opened.reason];
    throw unreadable(secret, why);
  }
  const { id, name, scope, scopeId, version, delivery, target } = secret;
  return { id, name, scope, scopeId, version, delivery, target, value: opened.value };
}

/** A secret the runner does not deliver, and why, in words that name no value. */
export interface RefusedSecret {
  secret: Pick<DesiredSecret, 'id' | 'name' | 'scope' | 'scopeId' | 'version'>;
  why: string;
}

/**
 * Why a secret may not reach this environment by its scope: a user secret is its owner's only,
 * a project secret its project's, and an org secret has no scope id. The control plane chooses
 * what it sends; this holds when it sends another user's or project's secret.
 */
export function scopeProblem(
  desired: Pick<DesiredEnvironment, 'ownerId' | 'spec'>,
  secret: Pick<DesiredSecret, 'scope' | 'scopeId'>,
): string | undefined {
  if (secret.scope === 'user' && secret.scopeId !== desired.ownerId) {
    return "it is another user's secret, not the environment owner's";
  }
  if (secret.scope === 'project' && secret.scopeId !== desired.spec.project) {
    const project = desired.spec.project;
    return `it is for project ${secret.scopeId}, and the environment is ${
      project === undefined ? 'of no project' : `of project ${project}`
    }`;
  }
  if (secret.scope === 'org' && secret.scopeId !== '') return 'an org secret has no scope id';
  return undefined;
}

/**
 * Opens the secrets of an environment's desired state with the runner's X25519 key, checking
 * each author's signature over the binding. A secret whose scope is not the environment's
 * (another user's, another project's), whose target breaks the delivery rules
 * (`secretTargetProblem`) or whose value cannot be delivered that way is refused: not opened or
 * not kept, returned with its reason, so the environment starts without it. The first one that
 * does not open fails them all with reason `secret_unreadable`; its message names the secret,
 * never a value.
 */
export function openEnvironmentSecrets(options: {
  desired: DesiredEnvironment;
  runnerId: string;
  key: X25519KeyPair;
}): { opened: OpenedSecret[]; refused: RefusedSecret[] } {
  const { desired, runnerId, key } = options;
  const opened: OpenedSecret[] = [];
  const refused: RefusedSecret[] = [];
  for (const secret of desired.secrets ?? []) {
    const placement = scopeProblem(desired, secret) ?? targetProblem(secret);
    if (placement) {
      refused.push({ secret, why: placement });
      continue;
    }
    const one = openOne(desired, secret, runnerId, key);
    const value = secretValueProblem(one.delivery, one.value);
    if (value) {
      one.value.fill(0);
      refused.push({ secret, why: value });
      continue;
    }
    opened.push(one);
  }
  return { opened, refused };
}

function targetProblem(secret: DesiredSecret): string | undefined {
  const problem = secretTargetProblem(secret);
  return problem === undefined ? undefined : `its ${secret.delivery} target ${problem}`;
}
