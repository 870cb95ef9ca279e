import type { EgressRule, PortShareLevel } from '../../org-types.js';

/** Minutes as people read a duration: `45 minutes`, `8 hours`, `2 days`. */
export function minutesText(minutes: number): string {
  const unit = (count: number, name: string) => `${count} ${name}${count === 1 ? '' : 's'}`;
  if (minutes % 1440 === 0) return unit(minutes / 1440, 'day');
  if (minutes % 60 === 0) return unit(minutes / 60, 'hour');
  return unit(minutes, 'minute');
}

export const portShareText: Record<PortShareLevel, string> = {
  private: 'private: only the environment owner reaches a shared port',
  org: 'org: members of the organization may be given a port',
  public: 'public: anyone with the link may be given a port',
};

/** One egress rule in words: what an environment under it may reach. */
export function egressRuleText(rule: EgressRule): string {
  const privateText = rule.allowPrivate?.length
    ? `; private ranges allowed: ${rule.allowPrivate.join(', ')}`
    : '';
  if (rule.mode === 'none') return `nothing${privateText}`;
  if (rule.mode === 'open') return `any public address${privateText}`;
  const hosts = (rule.allow ?? []).map(
    (entry) => `${entry.host} (ports ${(entry.ports ?? [443, 80]).join(', ')})`,
  );
  const allowed = hosts.length > 0 ? hosts.join(', ') : 'nothing (an empty allow-list)';
  return `only ${allowed}${privateText}`;
}

export function limitText(value: number | undefined): string {
  return value === undefined ? 'no limit' : String(value);
}
