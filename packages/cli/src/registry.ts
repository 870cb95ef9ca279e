import type { ArgSpec } from './args.js';
import type { Command } from './command.js';
import { UsageError } from './errors.js';

export interface CommandEntry {
  /** The words after `hangar`, such as `env create`. */
  readonly path: string;
  readonly summary: string;
  /** Loaded on use only, so a quick command does not pay for the servers' modules. */
  load(): Promise<Command<ArgSpec>>;
}

const entry = (
  path: string,
  summary: string,
  load: () => Promise<{ command: unknown }>,
): CommandEntry => ({
  path,
  summary,
  load: async () => (await load()).command as Command<ArgSpec>,
});

/** Every command, in the order `hangar --help` lists them. */
export const commandEntries: readonly CommandEntry[] = [
  entry(
    'up',
    'run a control plane and a local runner (data in ./.hangar) until Ctrl-C',
    () => import('./commands/up.js'),
  ),
  entry(
    'control',
    'run the control plane in the foreground',
    () => import('./commands/control.js'),
  ),
  entry('runner', 'run a runner in the foreground', () => import('./commands/runner-start.js')),
  entry(
    'runner create',
    'create a runner record and its enrollment token',
    () => import('./commands/runner-create.js'),
  ),
  entry('runner list', 'list the runners', () => import('./commands/runner-list.js')),
  entry(
    'runner disable',
    'disable a runner: close its connection and refuse it',
    () => import('./commands/runner-disable.js'),
  ),
  entry('runner enable', 'enable a disabled runner', () => import('./commands/runner-enable.js')),
  entry(
    'runner rotate-key',
    'ask a runner to replace its key pair',
    () => import('./commands/runner-rotate-key.js'),
  ),
  entry(
    'env create',
    'create an environment from a git repository (or an empty one)',
    () => import('./commands/env-create.js'),
  ),
  entry('env list', 'list your environments', () => import('./commands/env-list.js')),
  entry('env get', 'show one environment', () => import('./commands/env-get.js')),
  entry('env start', 'start a stopped environment', () => import('./commands/env-start.js')),
  entry(
    'env stop',
    'stop an environment, keeping its workspace',
    () => import('./commands/env-stop.js'),
  ),
  entry(
    'env delete',
    'delete an environment and its workspace',
    () => import('./commands/env-delete.js'),
  ),
  entry(
    'env logs',
    'print the lifecycle log of an environment',
    () => import('./commands/env-logs.js'),
  ),
  entry('env exec', 'run a command in an environment', () => import('./commands/env-exec.js')),
  entry(
    'env ps',
    'list your detached commands and terminals',
    () => import('./commands/env-ps.js'),
  ),
  entry(
    'env attach',
    'follow a detached command: its kept output, then live',
    () => import('./commands/env-attach.js'),
  ),
  entry(
    'env kill',
    'send a signal to a detached command or terminal',
    () => import('./commands/env-kill.js'),
  ),
  entry(
    'env wait',
    'wait for a detached command and exit with its exit code',
    () => import('./commands/env-wait.js'),
  ),
  entry(
    'env terminal',
    'open an interactive terminal that survives a dropped connection',
    () => import('./commands/env-terminal.js'),
  ),
  entry(
    'env ports',
    'list the ports of an environment, listening or forwarded',
    () => import('./commands/env-ports.js'),
  ),
  entry(
    'ssh',
    "open a shell or run a command in an environment with OpenSSH's ssh",
    () => import('./commands/ssh.js'),
  ),
  entry(
    'ssh-config',
    'print (or write) a Host block per running environment for ssh, VS Code, JetBrains',
    () => import('./commands/ssh-config.js'),
  ),
  entry(
    'ssh-key add',
    'register an SSH public key for your environments',
    () => import('./commands/ssh-key-add.js'),
  ),
  entry('ssh-key list', 'list your SSH keys', () => import('./commands/ssh-key-list.js')),
  entry(
    'ssh-key remove',
    'remove an SSH key, ending its SSH sessions',
    () => import('./commands/ssh-key-remove.js'),
  ),
  entry(
    'port share',
    'share a port of an environment: org, public or private',
    () => import('./commands/port-share.js'),
  ),
  entry(
    'port unshare',
    'make a shared port private again',
    () => import('./commands/port-unshare.js'),
  ),
  entry(
    'port open',
    'print a link to a port, with a grant for your browser',
    () => import('./commands/port-open.js'),
  ),
  entry(
    'agent run',
    'start an agent task in an environment; the prompt goes to the runner only',
    () => import('./commands/agent-run.js'),
  ),
  entry('agent list', 'list your agent tasks', () => import('./commands/agent-list.js')),
  entry('agent get', 'show one agent task', () => import('./commands/agent-get.js')),
  entry(
    'agent logs',
    "print an agent task's transcript from its runner (-f follows it)",
    () => import('./commands/agent-logs.js'),
  ),
  entry(
    'agent stop',
    'stop an agent task and every command it started',
    () => import('./commands/agent-stop.js'),
  ),
  entry('audit list', 'list audit records, with filters', () => import('./commands/audit-list.js')),
  entry(
    'audit verify',
    'verify the audit chain and its signed checkpoints offline',
    () => import('./commands/audit-verify.js'),
  ),
  entry(
    'audit export',
    'print the whole audit chain as JSON',
    () => import('./commands/audit-export.js'),
  ),
  entry(
    'devcontainer read',
    'print the resolved devcontainer configuration of a folder',
    () => import('./commands/devcontainer-read.js'),
  ),
  entry(
    'token create',
    'create an API token with chosen scopes',
    () => import('./commands/token-create.js'),
  ),
  entry(
    'token list',
    'list your API tokens and whether each is active, expired or revoked',
    () => import('./commands/token-list.js'),
  ),
  entry(
    'token revoke',
    'revoke an API token; it is refused from its next request on',
    () => import('./commands/token-revoke.js'),
  ),
  entry(
    'org policy get',
    'show the organization policy',
    () => import('./commands/org-policy-get.js'),
  ),
  entry(
    'org policy set',
    'change the organization policy (owners and admins)',
    () => import('./commands/org-policy-set.js'),
  ),
  entry(
    'secret set',
    'seal a secret from stdin to the runners that may use it and store it',
    () => import('./commands/secret-set.js'),
  ),
  entry(
    'secret list',
    'list the secrets you may see (names and metadata, never values)',
    () => import('./commands/secret-list.js'),
  ),
  entry('secret delete', 'delete a secret', () => import('./commands/secret-delete.js')),
  entry(
    'member list',
    'list the members of the organization and their roles',
    () => import('./commands/member-list.js'),
  ),
  entry(
    'member add',
    'add a member by OpenID issuer and subject, before their first sign-in',
    () => import('./commands/member-add.js'),
  ),
  entry('member set-role', "change a member's role", () => import('./commands/member-set-role.js')),
  entry(
    'member remove',
    'remove a member: their tokens, sessions and SSH keys end, environments stop',
    () => import('./commands/member-remove.js'),
  ),
  entry(
    'org oidc get',
    "show the organization's OpenID provider settings",
    () => import('./commands/org-oidc-get.js'),
  ),
  entry(
    'org oidc set',
    "set the organization's OpenID provider (owners and admins)",
    () => import('./commands/org-oidc-set.js'),
  ),
  entry(
    'org oidc delete',
    "remove the organization's OpenID provider (owners and admins)",
    () => import('./commands/org-oidc-delete.js'),
  ),
  entry(
    'login',
    "sign in through the organization's OpenID provider (browser or --device)",
    () => import('./commands/login.js'),
  ),
  entry(
    'logout',
    'end the session in use and remove its credentials file',
    () => import('./commands/logout.js'),
  ),
  entry('whoami', 'show who the API token belongs to', () => import('./commands/whoami.js')),
];

/**
 * The command the arguments name: the entry with the longest matching path. An unknown word
 * is a usage error that lists what there is.
 */
export function findCommand(argv: readonly string[]): { entry: CommandEntry; rest: string[] } {
  let best: { entry: CommandEntry; words: number } | undefined;
  for (const candidate of commandEntries) {
    const words = candidate.path.split(' ');
    const matches = words.every((word, index) => argv[index] === word);
    if (matches && (!best || words.length > best.words))
      best = { entry: candidate, words: words.length };
  }
  if (best) return { entry: best.entry, rest: argv.slice(best.words) };
  const first = argv[0] ?? '';
  const group = commandEntries.filter((candidate) => candidate.path.startsWith(`${first} `));
  if (group.length > 0) {
    const names = group.map((candidate) => candidate.path.slice(first.length + 1)).join(', ');
    const second = argv[1];
    const what =
      second === undefined || second.startsWith('-')
        ? `${first} needs a command`
        : `unknown command "${first} ${second}"`;
    throw new UsageError(`${what}; ${first} has: ${names}`);
  }
  const roots = [...new Set(commandEntries.map((candidate) => candidate.path.split(' ')[0]))];
  throw new UsageError(`unknown command "${first}"; commands: ${roots.join(', ')}`);
}
