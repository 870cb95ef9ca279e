import { posix } from 'node:path';
import { HangarError } from './errors.js';
import type { SecretDelivery, SecretScope } from './schemas/secrets.js';

/**
 * Where a secret may be delivered. The control plane checks it when a secret is set, the CLI
 * before it seals, and the runner again when it delivers (a control plane that lets a target
 * through, or stored one before these rules, cannot make the runner honour it). One rule set,
 * so the three never disagree.
 */

/** Where the secret is delivered, and whose it is (file targets depend on the scope). */
export interface SecretPlacement {
  scope: SecretScope;
  delivery: SecretDelivery;
  target: string;
}

/** The folder org and project file secrets must be in; a user secret may go elsewhere too. */
export const sharedSecretFolder = '/run/secrets';

/**
 * Variables the environment's runtime sets, or that make shells, the dynamic loader,
 * interpreters and tools run other code or go elsewhere. Compared upper-cased.
 */
const refusedVariables = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'PWD',
  'OLDPWD',
  'TERM',
  'HOSTNAME',
  'BASH_ENV',
  'ENV',
  'ZDOTDIR',
  'PROMPT_COMMAND',
  'SHELLOPTS',
  'BASHOPTS',
  'PS1',
  'PS2',
  'PS3',
  'PS4',
  'IFS',
  'CDPATH',
  'GLOBIGNORE',
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  'NODE_OPTIONS',
  'NODE_PATH',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'PERL5DB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'MANPAGER',
  'LESSOPEN',
  'LESSCLOSE',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
]);
const refusedVariablePrefixes = ['LD_', 'MALLOC_', 'NPM_CONFIG_', 'PYTHON', 'GIT_', 'SSH_'];
const runtimeVariablePrefixes = ['HANGAR_', 'XDG_'];
const variablePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Folders the sandbox provides (or the kernel does): a file secret there is refused. */
const refusedFolders = [
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
  '/workspaces',
];
/** Files in a home that shells, git and ssh read at start: a secret there would run code. */
const startupFiles = new Set([
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.profile',
  '.zshrc',
  '.zprofile',
  '.zshenv',
  '.zlogin',
  '.zlogout',
  '.gitconfig',
  '.config/git',
  '.ssh',
]);
const homePattern = /^\/(?:home\/[^/]+|root)(?:\/(?<rest>.*))?$/;

const hostLabel = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const gitTargetPattern = new RegExp(
  `^(?:(?<user>(?:[A-Za-z0-9._~+-]|%[0-9A-Fa-f]{2})+)@)?` +
    `(?<host>${hostLabel}(?:\\.${hostLabel})*|\\[[0-9A-Fa-f:.]+\\])` +
    `(?::(?<port>[0-9]{1,5}))?$`,
);
const controlCharacters = /[\u0000-\u001f\u007f]/;

function isUnder(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

function variableProblem(target: string): string | undefined {
  if (!variablePattern.test(target)) {
    return 'must be an environment variable name: letters, digits and _, not starting with a digit';
  }
  const name = target.toUpperCase();
  if (runtimeVariablePrefixes.some((prefix) => name.startsWith(prefix))) {
    return `${target} is set by the environment's runtime; pick another variable name`;
  }
  if (refusedVariables.has(name) || refusedVariablePrefixes.some((p) => name.startsWith(p))) {
    return (
      `${target} is set by the environment's runtime or makes shells, the loader or tools run ` +
      'other code; pick another variable name'
    );
  }
  return undefined;
}

function startupFileOf(target: string): string | undefined {
  const rest = homePattern.exec(target)?.groups?.rest;
  if (rest === undefined) return undefined;
  return [...startupFiles].find((file) => rest === file || rest.startsWith(`${file}/`));
}

function fileProblem(scope: SecretScope, target: string): string | undefined {
  if (controlCharacters.test(target)) return 'must not hold control characters';
  if (!target.startsWith('/')) return 'must be an absolute path, such as /run/secrets/token';
  if (posix.normalize(target) !== target || target.split('/').includes('.')) {
    return 'must be a normalized path: no "..", ".", "//" or trailing "/"';
  }
  if (target === '/' || target.endsWith('/')) return 'must name a file, not a directory';
  if (scope !== 'user') {
    if (target.startsWith(`${sharedSecretFolder}/`)) return undefined;
    return (
      `must be under ${sharedSecretFolder}/ (such as ${sharedSecretFolder}/tls.pem) for an ` +
      `${scope} secret; only a user secret may be delivered elsewhere`
    );
  }
  if (target.startsWith(`${sharedSecretFolder}/`)) return undefined;
  const folder = refusedFolders.find((item) => isUnder(target, item));
  if (folder) return `must not be under ${folder}, which the environment's sandbox provides`;
  if (target === '/tmp' || target === '/home' || /^\/home\/[^/]+$/.test(target)) {
    return `cannot be ${target}, a folder; name a file in it`;
  }
  const startup = startupFileOf(target);
  if (startup) {
    return `must not be a shell, git or ssh start-up file (~/${startup}); they run code at start`;
  }
  return undefined;
}

function gitHostProblem(target: string): string | undefined {
  const groups = gitTargetPattern.exec(target)?.groups;
  const port = groups?.port === undefined ? 1 : Number(groups.port);
  let user = '';
  try {
    user = decodeURIComponent(groups?.user ?? '');
  } catch {
    user = '\n';
  }
  if (!groups || target.length > 253 || port < 1 || port > 65535 || controlCharacters.test(user)) {
    return (
      'must be a git host as [user@]host[:port], such as git.example.com, git.internal:8443 or ' +
      'deploy@git.example.com'
    );
  }
  return undefined;
}

/** Why a secret may not be delivered at its target, or undefined when it may. */
export function secretTargetProblem(secret: SecretPlacement): string | undefined {
  const { scope, delivery, target } = secret;
  if (delivery === 'env') return variableProblem(target);
  if (delivery === 'file') return fileProblem(scope, target);
  if (delivery === 'git') return gitHostProblem(target);
  return controlCharacters.test(target) ? 'must not hold control characters' : undefined;
}

/**
 * Refuses a target {@link secretTargetProblem} finds a problem with: `invalid_request` naming
 * the field `target`. Env names are refused when the runtime owns them or they run code (PATH,
 * LD_*, BASH_ENV, GIT_*, ...; compared case-insensitively); files of org and project secrets
 * must be under /run/secrets/, a user's anywhere but the sandbox's folders and start-up files;
 * git targets are [user@]host[:port].
 */
export function checkSecretTarget(secret: SecretPlacement): void {
  const problem = secretTargetProblem(secret);
  if (problem === undefined) return;
  throw new HangarError('invalid_request', `target ${problem}`, {
    fields: [{ field: 'target', message: problem }],
  });
}

/** A git credential is one line: one trailing line break (from `echo token |`) is dropped. */
export function gitPasswordOf(value: Uint8Array): string {
  return Buffer.from(value)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * Why a value cannot be delivered the way its secret asks, or undefined. The control plane never
 * sees values, so the CLI checks before it seals and the runner after it opens: a variable
 * cannot hold a NUL byte, and a git credential must be one line.
 */
export function secretValueProblem(
  delivery: SecretDelivery,
  value: Uint8Array,
): string | undefined {
  if (delivery === 'env' && value.includes(0)) {
    return (
      'its value holds a NUL byte, which no environment variable can hold; deliver it as a ' +
      'file (--file /run/secrets/NAME) instead'
    );
  }
  if (delivery === 'git' && /[\r\n\0]/.test(gitPasswordOf(value))) {
    return 'its value must be one line (a token or password) to be a git credential';
  }
  return undefined;
}
