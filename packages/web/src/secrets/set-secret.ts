import { messageOf, resultOf, type Client, type Result } from '../client.js';
import type {
  Secret,
  SecretDelivery,
  SecretRecipient,
  SecretScope,
  SetSecretBody,
} from '../org-types.js';
import type { KeyStore } from './key-store.js';
import {
  checkRunnerKeys,
  readRunnerPins,
  runnerPinsName,
  type ChangedRunnerKey,
  type CheckedRecipient,
} from './runner-pins.js';
import { sealSecret } from './seal.js';
import { ensureSigningKey, type ActiveSigningKey } from './signing-key.js';
import { valueProblem } from './value-rules.js';

/** Tries when another writer stores a version of the same secret first. */
const maxAttempts = 3;

export interface SecretRequest {
  name: string;
  scope: SecretScope;
  /** The project name, for scope `project`. */
  project?: string;
  delivery: SecretDelivery;
  target: string;
  value: Uint8Array<ArrayBuffer>;
  /** Runners whose changed key the user compared with the runner's log and accepted. */
  acceptedRunnerKeys: readonly string[];
}

export type SetSecretOutcome =
  | {
      kind: 'sealed';
      secret: Secret;
      sealedTo: CheckedRecipient[];
      signingKey: { fingerprint: string; registered: boolean };
    }
  | { kind: 'refused'; message: string }
  | { kind: 'key-changed'; changed: ChangedRunnerKey[] };

export interface SealingDeps {
  client: Client;
  store: KeyStore;
  user: { orgId: string; userId: string };
  now?: () => Date;
}

const refused = (message: string): SetSecretOutcome => ({ kind: 'refused', message });

function scopeText(request: Pick<SecretRequest, 'scope' | 'project'>): string {
  return request.scope === 'project' ? `project ${request.project ?? ''}` : request.scope;
}

async function recipientsOf(
  client: Client,
  request: SecretRequest,
): Promise<Result<SecretRecipient[]>> {
  const query = {
    scope: request.scope,
    ...(request.project !== undefined ? { project: request.project } : {}),
  };
  const answer = await resultOf(client.GET('/v1/secrets/recipients', { params: { query } }));
  if (!answer.ok) return answer;
  if (answer.data.recipients.length > 0) return { ok: true, data: answer.data.recipients };
  const message =
    `no runner can receive a ${scopeText(request)} secret: none that is enabled has ` +
    'published an encryption key (the runners page shows them); start a runner and try again';
  return { ok: false, message, status: 0 };
}

/** The next version: one past the stored one (which a deleted secret keeps), or what was asked. */
async function nextVersion(
  client: Client,
  request: SecretRequest,
  scopeId: string,
  asked: number | undefined,
): Promise<Result<number>> {
  const listed = await resultOf(client.GET('/v1/secrets'));
  if (!listed.ok) return listed;
  const stored = listed.data.secrets.find(
    (item) =>
      item.name === request.name && item.scope === request.scope && item.scopeId === scopeId,
  );
  return { ok: true, data: Math.max((stored?.version ?? 0) + 1, asked ?? 1) };
}

type PutAnswer =
  | { kind: 'stored'; secret: Secret }
  | { kind: 'version-conflict'; nextVersion: number | undefined }
  | { kind: 'refused'; message: string };

/** The members of the API's error body a version conflict is read from. */
interface ErrorBody {
  fields?: { field?: string }[];
  /** The version to seal instead (after a delete, the name continues from its last one). */
  nextVersion?: unknown;
}

/** Stores the sealed copies; a version another writer took first is told apart from a refusal. */
async function put(client: Client, body: SetSecretBody): Promise<PutAnswer> {
  try {
    const { data, error, response } = await client.PUT('/v1/secrets', { body });
    if (response.ok && data) return { kind: 'stored', secret: data };
    const parsed = (error ?? {}) as ErrorBody;
    if (response.status === 409 && parsed.fields?.some((item) => item.field === 'version')) {
      const next = parsed.nextVersion;
      return {
        kind: 'version-conflict',
        nextVersion: typeof next === 'number' && Number.isInteger(next) ? next : undefined,
      };
    }
    return { kind: 'refused', message: messageOf(error, response) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { kind: 'refused', message: `the control plane could not be reached (${detail})` };
  }
}

/**
 * Sets a secret the way `hangar secret set` does, with the value sealed in this browser: the
 * recipients' keys checked against the pins, the user's signing key made and registered on
 * first use, the value sealed once per recipient under the next version, bound to its name,
 * scope, delivery, target, runner and author, and stored; a version race is retried. The value
 * never leaves the page in the clear.
 */
export async function setSecret(
  deps: SealingDeps,
  request: SecretRequest,
): Promise<SetSecretOutcome> {
  const { client, store, user } = deps;
  const problem = valueProblem(request.delivery, request.value);
  if (problem) return refused(`${request.name} was not set: ${problem}`);
  const scopeId =
    request.scope === 'org' ? '' : request.scope === 'user' ? user.userId : (request.project ?? '');
  const pinsName = runnerPinsName(user);
  let signingKey: ActiveSigningKey | undefined;
  let asked: number | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const recipients = await recipientsOf(client, request);
    if (!recipients.ok) return refused(recipients.message);
    const now = (deps.now?.() ?? new Date()).toISOString();
    const pins = await readRunnerPins(store, pinsName);
    const keys = await checkRunnerKeys(pins, recipients.data, request.acceptedRunnerKeys, now);
    if (!keys.ok) return { kind: 'key-changed', changed: keys.changed };
    if (!signingKey) {
      const ensured = await ensureSigningKey(client, store, user);
      if (!ensured.ok)
        return refused(`your signing key could not be registered: ${ensured.message}`);
      signingKey = ensured.data;
    }
    const version = await nextVersion(client, request, scopeId, asked);
    if (!version.ok) return refused(version.message);
    const ciphertexts = [];
    for (const recipient of recipients.data) {
      const binding = {
        orgId: user.orgId,
        scope: request.scope,
        scopeId,
        name: request.name,
        version: version.data,
        delivery: request.delivery,
        target: request.target,
        runnerId: recipient.runnerId,
        authorId: user.userId,
      };
      const envelope = await sealSecret({
        value: request.value,
        binding,
        runnerPublicKey: recipient.encryptionKey,
        signingKey: signingKey.privateKey,
      });
      ciphertexts.push({ runnerId: recipient.runnerId, envelope });
    }
    const answer = await put(client, {
      name: request.name,
      scope: request.scope,
      ...(request.scope === 'project' ? { project: request.project } : {}),
      delivery: request.delivery,
      target: request.target,
      version: version.data,
      signingKeyId: signingKey.id,
      ciphertexts,
    });
    if (answer.kind === 'stored') {
      await store.put(pinsName, keys.pins);
      const { fingerprint, registered } = signingKey;
      return {
        kind: 'sealed',
        secret: answer.secret,
        sealedTo: keys.checked,
        signingKey: { fingerprint, registered },
      };
    }
    if (answer.kind === 'refused') return refused(answer.message);
    if (attempt >= maxAttempts) {
      return refused(`another change to ${request.name} kept winning the race; try again`);
    }
    asked = answer.nextVersion;
  }
}
