import {
  HangarError,
  sealSecret,
  secretTargetProblem,
  secretValueProblem,
  type Secret,
  type SecretDelivery,
  type SecretRecipient,
} from '@hangar/api';
import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import type { HttpClient } from '../http-client.js';
import type { Output } from '../output.js';
import {
  checkRunnerKeys,
  readRunnerKeyPins,
  runnerKeyPinsPath,
  writeRunnerKeyPins,
  type CheckedRecipient,
} from '../runner-key-pins.js';
import {
  chosenScope,
  findSecret,
  scopeFlags,
  scopeText,
  type ChosenScope,
} from '../secret-scope.js';
import { readSecretValue } from '../secret-value.js';
import { apiFlags, openSession } from '../session.js';
import { ensureSigningKey, signingKeyPath, type ActiveSigningKey } from '../signing-key.js';

const commandPath = 'secret set';
/** Tries when another `secret set` of the same secret stores a version first. */
const maxAttempts = 3;

interface WhoAmI {
  userId: string;
  orgId: string;
}

interface Delivery {
  delivery: SecretDelivery;
  target: string;
}

function chosenDelivery(
  name: string,
  flags: {
    'env-var'?: string | undefined;
    file?: string | undefined;
    'git-host'?: string | undefined;
    'model-key'?: boolean | undefined;
  },
): Delivery {
  const given = [flags['env-var'], flags.file, flags['git-host'], flags['model-key']].filter(
    (item) => item !== undefined && item !== false,
  );
  if (given.length > 1) {
    throw new UsageError(
      'give at most one of --env-var NAME, --file PATH, --git-host HOST and --model-key',
      { commandPath },
    );
  }
  if (flags['model-key'] === true) return { delivery: 'model', target: name };
  if (flags.file !== undefined) return { delivery: 'file', target: flags.file };
  if (flags['git-host'] !== undefined) return { delivery: 'git', target: flags['git-host'] };
  if (flags['env-var'] === undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UsageError(
      `${name} is not an environment variable name, so it cannot be the default one; pass ` +
        '--env-var NAME, --file PATH or --git-host HOST',
      { commandPath },
    );
  }
  return { delivery: 'env', target: flags['env-var'] ?? name };
}

/** The delivery target checked before anything is asked, as a usage error naming its flag. */
function checkTargetFlag(chosen: ChosenScope, delivery: Delivery, defaultName: boolean): void {
  const problem = secretTargetProblem({ scope: chosen.scope, ...delivery });
  if (problem === undefined) return;
  const flags: Partial<Record<SecretDelivery, string>> = {
    env: '--env-var',
    file: '--file',
    git: '--git-host',
    model: '--model-key',
  };
  const flag = flags[delivery.delivery] ?? '--env-var';
  const named = delivery.delivery === 'env' && defaultName ? `${flag} (the secret name)` : flag;
  throw new UsageError(`${named} ${problem}`, {
    commandPath,
    fields: [{ field: flag.slice(2), message: problem }],
  });
}

async function recipientsOf(api: HttpClient, chosen: ChosenScope): Promise<SecretRecipient[]> {
  const query = { scope: chosen.scope, project: chosen.project };
  const { recipients } = await api.get<{ recipients: SecretRecipient[] }>(
    '/v1/secrets/recipients',
    query,
  );
  if (recipients.length === 0) {
    throw new HangarError(
      'runner_unavailable',
      `no runner can receive a ${scopeText(chosen)} secret: none that is enabled has published ` +
        'an encryption key (`hangar runner list` shows SECRETS KEY); start a runner and try again',
    );
  }
  return recipients;
}

function isVersionConflict(error: unknown): boolean {
  return (
    error instanceof HangarError &&
    error.code === 'conflict' &&
    (error.fields ?? []).some((field) => field.field === 'version')
  );
}

/** The version the control plane asks for in a version conflict (after a delete), if any. */
function nextVersionOf(error: unknown): number | undefined {
  const next = error instanceof HangarError ? error.details?.['nextVersion'] : undefined;
  return typeof next === 'number' && Number.isInteger(next) && next >= 1 ? next : undefined;
}

/** The runner keys sealed to, on stderr: what the user can compare with the runners' logs. */
function reportKeys(out: Output, checked: readonly CheckedRecipient[]): void {
  for (const { recipient, fingerprint, state } of checked) {
    const note = {
      pinned: '',
      new: ' (first seal to this runner: pinned now)',
      accepted: ' (new key accepted: pinned now)',
    }[state];
    out.info(
      `sealed to runner ${recipient.name} (${recipient.runnerId}) key ${fingerprint}${note}`,
    );
  }
}

/**
 * Seals `value` once per recipient under the next version and stores it; retries a race. Each
 * runner's encryption key must match the one pinned the first time this machine sealed to it
 * (`runner-keys.json` beside the signing key), unless `accepted` names that runner.
 */
async function store(
  api: HttpClient,
  out: Output,
  request: {
    me: WhoAmI;
    name: string;
    chosen: ChosenScope;
    delivery: Delivery;
    value: Buffer;
    signingKey: ActiveSigningKey;
    pinsPath: string;
    accepted: readonly string[];
  },
): Promise<Secret> {
  const { me, name, chosen, delivery, value, signingKey } = request;
  const scopeId =
    chosen.scope === 'org' ? '' : chosen.scope === 'user' ? me.userId : chosen.project;
  let asked: number | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const recipients = await recipientsOf(api, chosen);
    const pinned = await readRunnerKeyPins(request.pinsPath);
    const keys = checkRunnerKeys(pinned, recipients, request.accepted, new Date().toISOString());
    const existing = await findSecret(api, name, chosen, me.userId);
    const version = Math.max((existing?.version ?? 0) + 1, asked ?? 1);
    const ciphertexts = recipients.map((recipient) => ({
      runnerId: recipient.runnerId,
      envelope: sealSecret({
        value,
        binding: {
          orgId: me.orgId,
          scope: chosen.scope,
          scopeId: scopeId ?? '',
          name,
          version,
          ...delivery,
          runnerId: recipient.runnerId,
          authorId: me.userId,
        },
        runnerPublicKey: recipient.encryptionKey,
        authorSigningKey: signingKey.privateKey,
      }),
    }));
    try {
      const secret = await api.json<Secret>('PUT', '/v1/secrets', {
        body: {
          name,
          scope: chosen.scope,
          ...(chosen.project !== undefined ? { project: chosen.project } : {}),
          ...delivery,
          version,
          signingKeyId: signingKey.id,
          ciphertexts,
        },
      });
      await writeRunnerKeyPins(request.pinsPath, keys.pins);
      reportKeys(out, keys.checked);
      return secret;
    } catch (error) {
      if (!isVersionConflict(error) || attempt >= maxAttempts) throw error;
      asked = nextVersionOf(error);
    }
  }
}

export const command = defineCommand({
  synopsis:
    '<name> [--org | --project P | --user] [--env-var NAME | --file PATH | --git-host HOST] ' +
    '[--accept-runner-key RUNNER_ID]',
  description:
    'Sets a secret from stdin (a pipe or file; one trailing newline is dropped except for ' +
    '--file), or from a prompt that does not echo when stdin is a terminal. Never from an ' +
    'argument: arguments show in shell history and process lists. At most 64 KiB. The value ' +
    'is sealed on this machine to each runner that may use it and signed with your signing ' +
    'key (made on first use, next to the credentials file, mode 0600); the control plane ' +
    'stores only the sealed copies and cannot read them. Each runner key is pinned the first ' +
    'time you seal to it (runner-keys.json, beside the signing key); a changed key is refused ' +
    'until you compare it with the runner log and pass --accept-runner-key. Delivered by ' +
    'default as the environment variable <name>; environments receive it at their next start. ' +
    'Org and project files go under /run/secrets/.',
  spec: {
    positionals: [
      { name: 'name', required: true, describe: 'the secret name: letters, digits, _ . -' },
      { name: 'value', required: false, describe: 'refused: the value is read from stdin only' },
    ],
    flags: {
      ...apiFlags,
      ...scopeFlags,
      'env-var': {
        type: 'string',
        valueName: 'NAME',
        describe: 'deliver as this environment variable (default: the secret name)',
      },
      file: {
        type: 'string',
        valueName: 'PATH',
        describe: 'deliver as a file at this absolute path in the environment',
      },
      'git-host': {
        type: 'string',
        valueName: 'HOST',
        describe: 'a git credential for [USER@]HOST[:PORT], handed to git by a credential helper',
      },
      'model-key': {
        type: 'boolean',
        describe:
          "a model API key for agent tasks (--model-key-secret): used by the runner's agent " +
          'loop, never delivered into an environment',
      },
      'accept-runner-key': {
        type: 'string',
        multiple: true,
        valueName: 'RUNNER_ID',
        describe:
          "seal to this runner's changed encryption key (after comparing its fingerprint " +
          'with the one in the runner log) and pin the new one',
      },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    if (positionals.value !== undefined) {
      throw new UsageError(
        'the secret value is read from stdin only, never from an argument (arguments show in ' +
          'shell history and process lists); pipe it in, or run without it to be prompted',
        { commandPath, fields: [{ field: 'value', message: 'is not accepted as an argument' }] },
      );
    }
    const chosen = chosenScope(flags, commandPath);
    const delivery = chosenDelivery(positionals.name, flags);
    checkTargetFlag(chosen, delivery, flags['env-var'] === undefined);
    const { api, credentials } = await openSession(io, flags);
    const me = await api.get<WhoAmI>('/v1/whoami');
    await recipientsOf(api, chosen);
    const value = await readSecretValue(io, {
      prompt: `value of ${scopeText(chosen)} secret ${positionals.name}: `,
      keepNewline: delivery.delivery === 'file',
    });
    try {
      const problem = secretValueProblem(delivery.delivery, value);
      if (problem) {
        throw new HangarError('invalid_request', `${positionals.name} was not set: ${problem}`);
      }
      const path = signingKeyPath(io, credentials);
      const signingKey = await ensureSigningKey(api, path);
      if (signingKey.registered) {
        out.info(`registered signing key ${signingKey.fingerprint} (kept in ${path})`);
      }
      const secret = await store(api, out, {
        me,
        name: positionals.name,
        chosen,
        delivery,
        value,
        signingKey,
        pinsPath: runnerKeyPinsPath(path),
        accepted: flags['accept-runner-key'],
      });
      out.result(secret, () => [
        `set ${scopeText(secret)} secret ${secret.name} version ${secret.version}, sealed to ` +
          `${secret.runnerIds.length} runner${secret.runnerIds.length === 1 ? '' : 's'} ` +
          `(${secret.delivery} ${secret.target})`,
      ]);
    } finally {
      value.fill(0);
    }
    return 0;
  },
});
