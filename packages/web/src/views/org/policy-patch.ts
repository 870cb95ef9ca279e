import type { OrgPolicy, PolicyPatch } from '../../org-types.js';
import { canonicalJson } from '../../canonical-json.js';

/** The rules edited as JSON in the form: nested shapes the API validates member by member. */
export const jsonRules = ['projects', 'egress', 'agents'] as const;
export const listRules = ['allowedRepositoryPatterns', 'allowedClasses'] as const;
export const numberRules = [
  'maxRunningPerUser',
  'maxRunningPerOrg',
  'idleStopAfterMin',
  'maxLifetimeMin',
] as const;

export type PolicyPatchResult =
  | { ok: true; patch: PolicyPatch; changed: (keyof PolicyPatch)[] }
  | { ok: false; field: keyof PolicyPatch | null; message: string };

const textOf = (form: FormData, name: string) => {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
};

/** One item a line; blank lines dropped. */
export function linesOf(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** What a rule's form field holds: a value, an empty field (clear the rule), or a problem. */
type Read =
  { kind: 'value'; value: unknown } | { kind: 'empty' } | { kind: 'bad'; message: string };

function readRule(form: FormData, rule: keyof PolicyPatch): Read {
  const text = textOf(form, rule);
  if ((listRules as readonly string[]).includes(rule)) {
    const items = linesOf(text);
    return items.length === 0 ? { kind: 'empty' } : { kind: 'value', value: items };
  }
  if (text === '') return { kind: 'empty' };
  if ((numberRules as readonly string[]).includes(rule)) {
    const value = Number(text);
    return Number.isInteger(value) && value >= 0
      ? { kind: 'value', value }
      : { kind: 'bad', message: `${rule} must be a whole number, or empty for no limit` };
  }
  try {
    return { kind: 'value', value: JSON.parse(text) as unknown };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { kind: 'bad', message: `${rule} must be JSON, or empty to clear it (${detail})` };
  }
}

/**
 * The `PATCH /v1/org/policy` body for what the form changed, rule by rule: a rule whose field
 * equals the policy shown is left out (so a save never touches what nobody edited), an emptied
 * field sends null (the rule is cleared: no restriction), and break-glass unticked clears it
 * (off). The API checks every value; this only reads the form.
 */
export function policyPatchOf(current: OrgPolicy, form: FormData): PolicyPatchResult {
  const patch: Record<string, unknown> = {};
  for (const rule of [...listRules, ...numberRules, ...jsonRules]) {
    const read = readRule(form, rule);
    if (read.kind === 'bad') return { ok: false, field: rule, message: read.message };
    const before = current[rule];
    if (read.kind === 'empty') {
      if (before !== undefined) patch[rule] = null;
    } else if (before === undefined || canonicalJson(before) !== canonicalJson(read.value)) {
      patch[rule] = read.value;
    }
  }
  const level = textOf(form, 'maxPortShareLevel');
  if (level && level !== current.maxPortShareLevel) patch.maxPortShareLevel = level;
  const breakGlass = form.get('breakGlass') === 'on';
  if (breakGlass !== (current.breakGlass ?? false)) patch.breakGlass = breakGlass ? true : null;
  const changed = Object.keys(patch) as (keyof PolicyPatch)[];
  if (changed.length === 0) {
    return { ok: false, field: null, message: 'Nothing to save: every rule is as shown above.' };
  }
  return { ok: true, patch, changed };
}

/** What a field of the form starts with for a rule of the policy shown. */
export function fieldTextOf(policy: OrgPolicy, rule: keyof PolicyPatch): string {
  if (rule === 'allowedRepositoryPatterns' || rule === 'allowedClasses') {
    return (policy[rule] ?? []).join('\n');
  }
  const value = policy[rule];
  if (value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value, null, 2);
  return String(value);
}
