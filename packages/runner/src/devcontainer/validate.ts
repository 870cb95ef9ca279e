import type { Node } from 'jsonc-parser';
import {
  arrayOf,
  describeNode,
  isBoolean,
  isInteger,
  isObject,
  isString,
  isStringArray,
  isStringOrNull,
  isStringOrStringArray,
  objectOf,
  objectWith,
  oneOf,
  childField,
  type Check,
  type FieldProblem,
} from './checks.js';
import { effectiveProperties } from './json-tree.js';

export type { FieldProblem } from './checks.js';

const lifecycleHookNames = [
  'initializeCommand',
  'onCreateCommand',
  'updateContentCommand',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
] as const;

const commandForms = 'a string, an array of strings, or an object of named commands';

const isLifecycleCommand: Check = (node, field, problems) => {
  if (node.type === 'string') return;
  if (node.type === 'array') return isStringArray(node, field, problems);
  if (node.type !== 'object') {
    const message = `must be ${commandForms}, not ${describeNode(node)}`;
    problems.push({ field, message, offset: node.offset });
    return;
  }
  for (const [name, child] of effectiveProperties(node)) {
    isStringOrStringArray(child, childField(field, name), problems);
  }
};

const portPattern = /^[^:\s]+:(\d{1,5})$/;

/** A port number, or `"host:port"` for a port on a compose sidecar. */
const isPort: Check = (node, field, problems) => {
  if (node.type === 'number') return isInteger({ min: 0, max: 65535 })(node, field, problems);
  const value: unknown = node.value;
  if (node.type === 'string' && typeof value === 'string') {
    const port = portPattern.exec(value)?.[1];
    if (port !== undefined && Number(port) <= 65535) return;
  }
  const found = node.type === 'string' ? JSON.stringify(value) : describeNode(node);
  const message = `must be a port number or a "host:port" string, not ${found}`;
  problems.push({ field, message, offset: node.offset });
};

/** Legacy `appPort` entries are a port number or a docker-style `"8124:8123"` mapping. */
const isPortOrMapping: Check = (node, field, problems) => {
  if (node.type === 'number') return isInteger({ min: 0, max: 65535 })(node, field, problems);
  if (node.type !== 'string') {
    const message = `must be a port number or a port mapping string, not ${describeNode(node)}`;
    problems.push({ field, message, offset: node.offset });
  }
};

const isAppPort: Check = (node, field, problems) => {
  if (node.type === 'array') return arrayOf(isPortOrMapping)(node, field, problems);
  isPortOrMapping(node, field, problems);
};

const isPortAttributes = objectWith({
  label: isString,
  onAutoForward: oneOf([
    'notify',
    'openBrowser',
    'openBrowserOnce',
    'openPreview',
    'silent',
    'ignore',
  ]),
  requireLocalPort: isBoolean,
  elevateIfNeeded: isBoolean,
  protocol: oneOf(['http', 'https']),
});

const isMount: Check = (node, field, problems) => {
  if (node.type === 'string') return;
  if (node.type !== 'object') {
    const message = `must be a mount string or a mount object, not ${describeNode(node)}`;
    problems.push({ field, message, offset: node.offset });
    return;
  }
  const mountFields = { type: oneOf(['bind', 'volume']), source: isString, target: isString };
  objectWith(mountFields, ['type', 'target'])(node, field, problems);
};

const isFeatureOptions: Check = (node, field, problems) => {
  if (node.type === 'object' || node.type === 'string' || node.type === 'boolean') return;
  const forms = 'an object of options, a version string or a boolean';
  const message = `must be ${forms}, not ${describeNode(node)}`;
  problems.push({ field, message, offset: node.offset });
};

const isGpu: Check = (node, field, problems) => {
  if (node.type === 'boolean' || node.type === 'object') return;
  if (node.type === 'string' && node.value === 'optional') return;
  const message = `must be true, false, "optional" or an object, not ${describeNode(node)}`;
  problems.push({ field, message, offset: node.offset });
};

const topLevelChecks: Record<string, Check> = {
  name: isString,
  image: isString,
  build: objectWith({
    dockerfile: isString,
    context: isString,
    target: isString,
    args: objectOf(isString),
    cacheFrom: isStringOrStringArray,
    options: isStringArray,
  }),
  dockerFile: isString,
  context: isString,
  dockerComposeFile: isStringOrStringArray,
  service: isString,
  runServices: isStringArray,
  workspaceFolder: isString,
  workspaceMount: isString,
  waitFor: oneOf(lifecycleHookNames),
  containerEnv: objectOf(isString),
  remoteEnv: objectOf(isStringOrNull),
  remoteUser: isString,
  containerUser: isString,
  forwardPorts: arrayOf(isPort),
  appPort: isAppPort,
  portsAttributes: objectOf(isPortAttributes),
  otherPortsAttributes: isPortAttributes,
  features: objectOf(isFeatureOptions),
  overrideFeatureInstallOrder: isStringArray,
  mounts: arrayOf(isMount),
  runArgs: isStringArray,
  privileged: isBoolean,
  init: isBoolean,
  capAdd: isStringArray,
  securityOpt: isStringArray,
  overrideCommand: isBoolean,
  shutdownAction: oneOf(['none', 'stopContainer', 'stopCompose']),
  updateRemoteUserUID: isBoolean,
  userEnvProbe: oneOf(['none', 'loginShell', 'interactiveShell', 'loginInteractiveShell']),
  hostRequirements: objectWith({
    cpus: isInteger({ min: 1 }),
    memory: isString,
    storage: isString,
    gpu: isGpu,
  }),
  customizations: isObject,
  extensions: isStringArray,
  settings: isObject,
};

for (const hook of lifecycleHookNames) topLevelChecks[hook] = isLifecycleCommand;

/**
 * Checks the types of the fields a runtime reads. Fields it does not know are left as written,
 * as the reference leaves them. Returns every problem found, in the order of the file.
 */
export function validateConfigTree(root: Node): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [key, node] of effectiveProperties(root)) {
    if (Object.hasOwn(topLevelChecks, key)) topLevelChecks[key]?.(node, key, problems);
  }
  return problems.sort((a, b) => a.offset - b.offset);
}
