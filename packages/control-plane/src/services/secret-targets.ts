import { posix } from 'node:path';
import { HangarError, type SecretDelivery } from '@hangar/api';

/** Variables the environment's runtime sets itself; a secret may not replace them. */
const runtimeVariables = new Set([
  'PATH',
  'HOME',
  'USER',
  'SHELL',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
]);
const variablePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Kernel file systems: a file secret there could never be written, or would do harm. */
const refusedRoots = ['/proc', '/sys', '/dev'];
const hostLabel = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const hostPattern = new RegExp(`^${hostLabel}(?:\\.${hostLabel})*(?::(?<port>[0-9]{1,5}))?$`);

function invalid(message: string): never {
  throw new HangarError('invalid_request', `target ${message}`, {
    fields: [{ field: 'target', message }],
  });
}

function checkVariable(target: string): void {
  if (!variablePattern.test(target)) {
    invalid(
      'must be an environment variable name: letters, digits and _, not starting with a digit',
    );
  }
  if (runtimeVariables.has(target) || target.startsWith('HANGAR_')) {
    invalid(`${target} is set by the environment's runtime; pick another variable name`);
  }
}

function checkFile(target: string): void {
  if (/[\u0000-\u001f\u007f]/.test(target)) invalid('must not hold control characters');
  if (!target.startsWith('/')) invalid('must be an absolute path, such as /home/dev/.npmrc');
  const segments = target.split('/');
  if (segments.includes('..') || segments.includes('.') || posix.normalize(target) !== target) {
    invalid('must be a normalized path: no "..", ".", "//" or trailing "/"');
  }
  if (target === '/' || target.endsWith('/')) invalid('must name a file, not a directory');
  const root = refusedRoots.find((item) => target === item || target.startsWith(`${item}/`));
  if (root) invalid(`must not be under ${root}`);
}

function checkGitHost(target: string): void {
  const match = hostPattern.exec(target);
  const port = match?.groups?.port;
  if (!match || target.length > 253 || (port !== undefined && !validPort(port))) {
    invalid(
      'must be a git host as host or host:port, such as git.example.com or git.internal:8443',
    );
  }
}

function validPort(text: string): boolean {
  const port = Number(text);
  return port >= 1 && port <= 65535;
}

/**
 * Checks where a secret is delivered: an environment variable the runtime does not own, an
 * absolute normalized file path outside /proc, /sys and /dev, or a git host[:port].
 */
export function checkSecretTarget(delivery: SecretDelivery, target: string): void {
  if (delivery === 'env') checkVariable(target);
  else if (delivery === 'file') checkFile(target);
  else checkGitHost(target);
}
