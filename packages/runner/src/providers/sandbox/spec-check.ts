import { isAbsolute, posix } from 'node:path';
import { HangarError } from '@hangar/api';
import type { SandboxSpec } from '../provider.js';
import { homeFolder, reservedFolders } from './layout.js';

const environmentIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const userNamePattern = /^[a-z_][a-z0-9_-]{0,31}$/;
const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const maxId = 2 ** 31 - 2;

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `sandbox spec: ${field} ${message}`, {
    fields: [{ field, message }],
  });
}

/** Environment ids name directories and cgroups, so only a safe alphabet is accepted. */
export function checkEnvironmentId(environmentId: string): void {
  if (typeof environmentId !== 'string' || !environmentIdPattern.test(environmentId)) {
    throw invalid(
      'environmentId',
      'must be 1 to 64 letters, digits, "_" or "-", starting with a letter or digit',
    );
  }
}

function isUnder(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

/** Refuses a spec the sandbox cannot honour safely; the message names the field. */
export function checkSpec(spec: SandboxSpec): void {
  checkEnvironmentId(spec.environmentId);
  if (typeof spec.workspaceDir !== 'string' || !isAbsolute(spec.workspaceDir)) {
    throw invalid('workspaceDir', 'must be an absolute host path');
  }
  const folder = spec.workspaceFolder;
  if (
    typeof folder !== 'string' ||
    !posix.isAbsolute(folder) ||
    posix.normalize(folder) !== folder
  ) {
    throw invalid(
      'workspaceFolder',
      'must be an absolute, normalized path such as /workspaces/repo',
    );
  }
  if (folder === '/' || folder === '/tmp' || folder === '/home' || folder.endsWith('/')) {
    throw invalid('workspaceFolder', `cannot be ${folder}; use a folder such as /workspaces/repo`);
  }
  const reserved = reservedFolders.find((prefix) => isUnder(folder, prefix));
  if (reserved !== undefined) {
    throw invalid('workspaceFolder', `cannot be under ${reserved}, which the sandbox provides`);
  }
  const { uid, gid, name } = spec.user;
  if (!Number.isInteger(uid) || uid < 1 || uid > maxId) {
    throw invalid('user.uid', 'must be a non-zero uid; environments never run as root');
  }
  if (!Number.isInteger(gid) || gid < 1 || gid > maxId) {
    throw invalid('user.gid', 'must be a non-zero gid; environments never run in group root');
  }
  if (!userNamePattern.test(name) || name === 'root' || name === 'nobody') {
    throw invalid('user.name', 'must be a plain user name other than root and nobody');
  }
  const home = homeFolder(name);
  if (isUnder(home, folder) || folder === home) {
    throw invalid('workspaceFolder', `cannot contain or be the home folder ${home}`);
  }
  for (const [key, value] of Object.entries(spec.containerEnv)) {
    if (!envNamePattern.test(key) || typeof value !== 'string' || value.includes('\0')) {
      throw invalid(`containerEnv.${key}`, 'must be a variable name with a string value');
    }
  }
  for (const [index, file] of (spec.memoryFiles ?? []).entries()) {
    checkMemoryFile(`memoryFiles[${index}]`, file, { workspaceFolder: folder, home });
  }
  const limits = spec.class;
  if (!(limits.cpu > 0) || !Number.isInteger(limits.memoryMiB) || limits.memoryMiB < 16) {
    throw invalid('class', 'needs cpu > 0 and memoryMiB of at least 16');
  }
  if (!Number.isInteger(limits.pids) || limits.pids < 16) {
    throw invalid('class.pids', 'must be an integer of at least 16');
  }
}

/** Where a file from memory may be bound: /run/secrets and /run/hangar/git-credentials too. */
const memoryFileFolders = ['/run/secrets', '/run/hangar/git-credentials'];

/**
 * Why a file from memory may not be bound at `dest`, or undefined when it may: it goes outside
 * the workspace volume, outside what the sandbox provides (except the two folders above), and
 * never over the home folder itself.
 */
export function memoryFileProblem(
  dest: string,
  where: { workspaceFolder: string; home: string },
): string | undefined {
  if (typeof dest !== 'string' || !posix.isAbsolute(dest) || posix.normalize(dest) !== dest) {
    return 'must be an absolute, normalized path such as /run/secrets/token';
  }
  if (dest.includes('\0') || dest.endsWith('/') || dest === where.home || dest === '/tmp') {
    return `cannot be ${dest}; name a file such as /run/secrets/token`;
  }
  if (isUnder(dest, where.workspaceFolder)) {
    return `cannot be in the workspace folder ${where.workspaceFolder}, which is on disk`;
  }
  const reserved = reservedFolders.find((prefix) => isUnder(dest, prefix));
  const allowed = memoryFileFolders.some((prefix) => dest.startsWith(`${prefix}/`));
  if (reserved !== undefined && !allowed) {
    return `cannot be under ${reserved}, which the sandbox provides (/run/secrets/ can be used)`;
  }
  return undefined;
}

function checkMemoryFile(
  field: string,
  file: { source: string; dest: string },
  where: { workspaceFolder: string; home: string },
): void {
  if (typeof file.source !== 'string' || !isAbsolute(file.source) || file.source.includes('\0')) {
    throw invalid(`${field}.source`, 'must be an absolute host path');
  }
  const problem = memoryFileProblem(file.dest, where);
  if (problem) throw invalid(`${field}.dest`, problem);
}
