import path from 'node:path';
import { HangarError } from '@hangar/api';
import { isPlainObject, setOwn } from './json-tree.js';
import type { EnvLookup } from './types.js';

/** Returns the text that replaces one `${variable:arg:...}`, or `match` to leave it as written. */
type Replacer = (match: string, variable: string, args: string[]) => string;

/** What is known on the runner host when the file is read, before any environment exists. */
export interface LocalSubstitutionContext {
  localEnv: EnvLookup;
  localWorkspaceFolder: string;
  /** The folder's name as the environment knows it; by default the basename of the folder. */
  localWorkspaceFolderBasename: string;
  containerWorkspaceFolder: string;
  /** Named in the error when a variable cannot be resolved. */
  configPath: string;
}

/** A `${...}` with the shortest body, as the reference matches it; the body is split on `:`. */
const variablePattern = /\$\{(.*?)\}/g;

function substituteString(value: string, replace: Replacer): string {
  return value.replace(variablePattern, (match: string, body: string) => {
    const [variable = '', ...args] = body.split(':');
    return replace(match, variable, args);
  });
}

/** Applies `replace` to every string in a JSON value (object keys stay as written). */
function substituteDeep<T>(value: T, replace: Replacer): T {
  return walk(value, replace) as T;
}

function walk(value: unknown, replace: Replacer): unknown {
  if (typeof value === 'string') return substituteString(value, replace);
  if (Array.isArray(value)) return value.map((item: unknown) => walk(item, replace));
  if (!isPlainObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(result, key, walk(value[key], replace));
  return result;
}

function lookup(options: {
  env: EnvLookup;
  args: string[];
  match: string;
  configPath: string | undefined;
}): string {
  const [name, fallback] = options.args;
  if (name === undefined) {
    const where = options.configPath === undefined ? '' : ` in ${options.configPath}`;
    const message =
      `"${options.match}"${where} names no variable. ` +
      'Write it as ${localEnv:NAME} or ${localEnv:NAME:default}.';
    throw new HangarError('devcontainer_invalid', message, { details: { match: options.match } });
  }
  const value = Object.hasOwn(options.env, name) ? options.env[name] : undefined;
  if (typeof value === 'string') return value;
  return fallback ?? '';
}

function localReplacer(context: LocalSubstitutionContext): Replacer {
  const { localEnv, configPath } = context;
  return (match, variable, args) => {
    switch (variable) {
      case 'env':
      case 'localEnv':
        return lookup({ env: localEnv, args, match, configPath });
      case 'localHomeFolder':
        return lookup({ env: localEnv, args: ['HOME'], match, configPath });
      case 'localWorkspaceFolder':
        return context.localWorkspaceFolder;
      case 'localWorkspaceFolderBasename':
        return context.localWorkspaceFolderBasename;
      case 'containerWorkspaceFolder':
        return context.containerWorkspaceFolder;
      case 'containerWorkspaceFolderBasename':
        return path.posix.basename(context.containerWorkspaceFolder);
      default:
        return match;
    }
  };
}

/**
 * Substitutes what the runner host knows: `${localEnv:NAME}`, `${localEnv:NAME:default}` (an
 * unset variable without a default becomes ""), `${localWorkspaceFolder}`,
 * `${localWorkspaceFolderBasename}`, `${containerWorkspaceFolder}` and
 * `${containerWorkspaceFolderBasename}`. `${containerEnv:...}`, `${devcontainerId}` and any other
 * variable stay as written. As in the reference, a default ends at the next `:`.
 *
 * `localEnv` is the only environment read: pass a chosen set, never the runner's own
 * `process.env`, or a repository could copy the runner's secrets into its environment.
 */
export function substituteLocal<T>(value: T, context: LocalSubstitutionContext): T {
  const containerWorkspaceFolder = substituteString(
    context.containerWorkspaceFolder,
    localReplacer(context),
  );
  return substituteDeep(value, localReplacer({ ...context, containerWorkspaceFolder }));
}

/**
 * Substitutes `${containerEnv:NAME}` and `${containerEnv:NAME:default}` from the environment of
 * the running container (an unset variable without a default becomes ""). Everything else stays.
 * Used once the environment runs, on `remoteEnv` and on lifecycle commands.
 */
export function substituteContainerEnv<T>(value: T, containerEnv: EnvLookup): T {
  return substituteDeep(value, (match, variable, args) =>
    variable === 'containerEnv'
      ? lookup({ env: containerEnv, args, match, configPath: undefined })
      : match,
  );
}

/** Substitutes `${devcontainerId}`, a stable id of one environment (for example in mounts). */
export function substituteDevcontainerId<T>(value: T, devcontainerId: string): T {
  return substituteDeep(value, (match, variable) =>
    variable === 'devcontainerId' ? devcontainerId : match,
  );
}
