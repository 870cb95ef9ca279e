import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HangarError, type OrgPolicy, type UpdateOrgPolicyBody } from '@hangar/api';
import { defineCommand } from '../command.js';
import { readEgressFile } from '../egress-policy-text.js';
import { UsageError } from '../errors.js';
import { parseLevel, shareLevels } from '../port-shares.js';
import { apiFlags, openSession } from '../session.js';
import { describePolicy } from './org-policy-get.js';

const commandPath = 'org policy set';

type Rule = keyof UpdateOrgPolicyBody;

/** The flag that sets each rule; `--clear` takes either name. */
const flagOfRule: Record<Rule, string> = {
  maxPortShareLevel: 'max-port-share-level',
  allowedRepositoryPatterns: 'allow-repository',
  allowedClasses: 'allow-class',
  maxRunningPerUser: 'max-running-per-user',
  maxRunningPerOrg: 'max-running-per-org',
  idleStopAfterMin: 'idle-stop-after',
  maxLifetimeMin: 'max-lifetime',
  breakGlass: 'break-glass',
  projects: 'projects-file',
  egress: 'egress-file',
  agents: 'agents-file',
};

const rules = Object.keys(flagOfRule) as Rule[];

function usage(flag: string, message: string): UsageError {
  return new UsageError(`--${flag} ${message}`, {
    commandPath,
    fields: [{ field: flag, message }],
  });
}

/** The rule `--clear` names, by its flag (`max-lifetime`) or its API name (`maxLifetimeMin`). */
function ruleNamed(name: string): Rule {
  const rule = rules.find((item) => item === name || flagOfRule[item] === name);
  if (rule) return rule;
  const names = rules.map((item) => flagOfRule[item]).join(', ');
  throw usage('clear', `must name a rule: ${names} (got "${name}")`);
}

/** A duration flag as whole minutes, which is what the API stores. */
function minutesOf(flag: string, seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (seconds % 60 !== 0) throw usage(flag, 'must be whole minutes, such as 30m, 8h or 2d');
  return seconds / 60;
}

function onOff(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'on' || value === 'off') return value === 'on';
  throw usage('break-glass', `must be on or off, got "${value}"`);
}

/** The JSON array of projects in FILE; the control plane checks each member. */
async function projectsFrom(path: string | undefined, cwd: string): Promise<unknown[] | undefined> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), 'utf8');
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw usage('projects-file', `cannot be read: ${reason}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw usage('projects-file', 'must hold JSON: an array of {name, repositoryPatterns, runners}');
  }
  if (!Array.isArray(parsed)) {
    throw usage('projects-file', 'must hold a JSON array of {name, repositoryPatterns, runners}');
  }
  return parsed as unknown[];
}

/** The JSON object of the agent policy in FILE; the control plane checks each member. */
async function agentsFrom(path: string | undefined, cwd: string): Promise<object | undefined> {
  if (path === undefined) return undefined;
  const shape = 'a JSON object such as {"allowedTools": [...], "maxRunningPerUser": 2}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(resolve(cwd, path), 'utf8')) as unknown;
  } catch (error: unknown) {
    const reason = error instanceof SyntaxError ? 'is not JSON' : 'cannot be read';
    throw usage('agents-file', `${reason}: it must hold ${shape}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw usage('agents-file', `must hold ${shape}`);
  }
  return parsed;
}

/** A refusal of the control plane, with the flags that set the fields it names. */
function withFlagNames(error: unknown): unknown {
  if (!(error instanceof HangarError) || error.code !== 'invalid_request') return error;
  const flags = (error.fields ?? []).flatMap((field) => {
    const rule = rules.find((item) => field.field === item || field.field.startsWith(`${item}.`));
    return rule ? [`--${flagOfRule[rule]}`] : [];
  });
  if (flags.length === 0) return error;
  const message = `${error.message} (set by ${[...new Set(flags)].join(', ')})`;
  return new HangarError(error.code, message, {
    ...(error.fields ? { fields: error.fields } : {}),
    ...(error.details ? { details: error.details } : {}),
    cause: error,
  });
}

const durationLimits = { min: 60, max: 525600 * 60 } as const;

export const command = defineCommand({
  synopsis:
    '[--max-port-share-level L] [--allow-repository PATTERN]... [--allow-class C]... ' +
    '[--max-running-per-user N] [--max-running-per-org N] [--idle-stop-after 30m] ' +
    '[--max-lifetime 8h] [--break-glass on|off] [--projects-file FILE] [--agents-file FILE] ' +
    '[--egress-file FILE] [--clear RULE]...',
  description:
    'Changes the organization policy (owners and admins): each flag sets one rule, rules not ' +
    'named stay as they are, and --clear RULE lifts one (no restriction, break-glass off). ' +
    'A list flag replaces the whole list. Repository patterns: * matches any run without /, ' +
    '** any run, on the whole URL. Lowering the port share level also lowers every share ' +
    'above it, at once.',
  spec: {
    flags: {
      ...apiFlags,
      'max-port-share-level': {
        type: 'string',
        valueName: 'LEVEL',
        describe: `the widest share level allowed: ${shareLevels.join(', ')}`,
      },
      'allow-repository': {
        type: 'string',
        valueName: 'PATTERN',
        multiple: true,
        describe: 'a repository URL pattern environments may clone',
      },
      'allow-class': {
        type: 'string',
        valueName: 'CLASS',
        multiple: true,
        describe: 'an environment class that may be used',
      },
      'max-running-per-user': {
        type: 'integer',
        valueName: 'N',
        min: 0,
        max: 100000,
        describe: 'running environments each user may have',
      },
      'max-running-per-org': {
        type: 'integer',
        valueName: 'N',
        min: 0,
        max: 1000000,
        describe: 'running environments the organization may have',
      },
      'idle-stop-after': {
        type: 'duration',
        valueName: 'DURATION',
        ...durationLimits,
        describe: 'stop environments idle this long, such as 30m',
      },
      'max-lifetime': {
        type: 'duration',
        valueName: 'DURATION',
        ...durationLimits,
        describe: 'stop environments running this long, such as 8h',
      },
      'break-glass': {
        type: 'string',
        valueName: 'on|off',
        describe: 'whether admins may open environments they do not own, with a reason',
      },
      'projects-file': {
        type: 'string',
        valueName: 'FILE',
        describe: 'a JSON array of projects: [{"name", "repositoryPatterns", "runners"}]',
      },
      'agents-file': {
        type: 'string',
        valueName: 'FILE',
        describe:
          'a JSON agent policy: allowedTools, deniedCommandPatterns, writablePaths, ' +
          'maxRunningPerUser, maxRunningPerOrg, model',
      },
      'egress-file': {
        type: 'string',
        valueName: 'FILE',
        describe:
          'a JSON egress policy: {"default", "classes": {CLASS: rule}, "agents"}, each rule ' +
          '{"mode": none|allowlist|open, "allow": [{"host", "ports"}], "allowPrivate": [CIDR]}',
      },
      clear: {
        type: 'string',
        valueName: 'RULE',
        multiple: true,
        describe: 'a rule to lift, named by its flag, such as max-lifetime',
      },
    },
  },
  async run({ io, out }, { flags }) {
    const body: Record<string, unknown> = {};
    const level = flags['max-port-share-level'];
    if (level !== undefined) {
      body.maxPortShareLevel = parseLevel(level, commandPath, 'max-port-share-level');
    }
    if (flags['allow-repository'].length)
      body.allowedRepositoryPatterns = flags['allow-repository'];
    if (flags['allow-class'].length) body.allowedClasses = flags['allow-class'];
    body.maxRunningPerUser = flags['max-running-per-user'];
    body.maxRunningPerOrg = flags['max-running-per-org'];
    body.idleStopAfterMin = minutesOf('idle-stop-after', flags['idle-stop-after']);
    body.maxLifetimeMin = minutesOf('max-lifetime', flags['max-lifetime']);
    body.breakGlass = onOff(flags['break-glass']);
    body.projects = await projectsFrom(flags['projects-file'], io.cwd);
    body.agents = await agentsFrom(flags['agents-file'], io.cwd);
    const egressFile = flags['egress-file'];
    if (egressFile !== undefined) {
      const egress = await readEgressFile(egressFile, io.cwd);
      if (typeof egress === 'string') throw usage('egress-file', egress);
      body.egress = egress;
    }
    for (const rule of flags.clear.map(ruleNamed)) {
      if (body[rule] !== undefined) {
        throw usage('clear', `names ${flagOfRule[rule]}, which this command also sets`);
      }
      body[rule] = null;
    }
    const change = Object.fromEntries(
      Object.entries(body).filter(([, value]) => value !== undefined),
    );
    if (Object.keys(change).length === 0) {
      throw new UsageError('give at least one rule to set, or --clear RULE', { commandPath });
    }
    const { api } = await openSession(io, flags);
    const policy = await api
      .json<OrgPolicy>('PATCH', '/v1/org/policy', { body: change })
      .catch((error: unknown) => {
        throw withFlagNames(error);
      });
    out.result(policy, () => describePolicy(policy));
    return 0;
  },
});
