import { HangarError } from '@hangar/api';
import { isPlainObject, setOwn } from './json-tree.js';
import type { DevcontainerConfig } from './types.js';

function copyOf(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(copy, key, value[key]);
  return copy;
}

function editableObject(options: {
  parent: Record<string, unknown>;
  key: string;
  field: string;
  configPath: string;
}): Record<string, unknown> {
  const { parent, key } = options;
  const current = parent[key];
  if (current === undefined || current === null || current === false) {
    const created: Record<string, unknown> = {};
    setOwn(parent, key, created);
    return created;
  }
  if (!isPlainObject(current)) {
    const message =
      `${options.configPath}: "${options.field}" must be an object to take the legacy ` +
      'top-level "extensions" and "settings". Fix the field and try again.';
    throw new HangarError('devcontainer_invalid', message, {
      details: { path: options.configPath, field: options.field },
    });
  }
  const copy = copyOf(current);
  setOwn(parent, key, copy);
  return copy;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Moves the legacy top-level `extensions`, `settings` and `devPort` under
 * `customizations.vscode`, as the reference does: extensions already there come first, settings
 * already there win, a `devPort` already there keeps the top-level one where it is. Other legacy
 * fields (`dockerFile`, `context`, `appPort`) are kept as given. The input is not changed.
 */
export function moveLegacyProperties(
  config: DevcontainerConfig,
  configPath: string,
): DevcontainerConfig {
  const hasLegacy = Boolean(config.extensions) || Boolean(config.settings);
  if (!hasLegacy && config.devPort === undefined) return config;

  const copy = copyOf(config);
  const customizations = editableObject({
    parent: copy,
    key: 'customizations',
    field: 'customizations',
    configPath,
  });
  const vscode = editableObject({
    parent: customizations,
    key: 'vscode',
    field: 'customizations.vscode',
    configPath,
  });

  if (copy.extensions) {
    setOwn(vscode, 'extensions', [...asList(vscode.extensions ?? []), ...asList(copy.extensions)]);
    delete copy.extensions;
  }
  if (copy.settings) {
    const existing = isPlainObject(vscode.settings) ? vscode.settings : {};
    const merged = copyOf(copy.settings as Record<string, unknown>);
    for (const key of Object.keys(existing)) setOwn(merged, key, existing[key]);
    setOwn(vscode, 'settings', merged);
    delete copy.settings;
  }
  if (copy.devPort !== undefined && vscode.devPort === undefined) {
    setOwn(vscode, 'devPort', copy.devPort);
    delete copy.devPort;
  }
  return copy;
}
