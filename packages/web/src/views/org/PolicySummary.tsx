import type { ReactNode } from 'react';
import type { AgentPolicy, EgressPolicy, OrgPolicy, ProjectRule } from '../../org-types.js';
import { Time } from '../common.js';
import { egressRuleText, limitText, minutesText, portShareText } from './policy-text.js';

/** A list of values as code, or what an empty or absent list means. */
function Items({ items, none }: { items: readonly string[] | undefined; none: string }) {
  if (!items || items.length === 0) return <>{none}</>;
  return (
    <ul className="plain">
      {items.map((item) => (
        <li key={item}>
          <code>{item}</code>
        </li>
      ))}
    </ul>
  );
}

function Rules({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="rules">
      {rows.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Projects({ projects }: { projects: ProjectRule[] | undefined }) {
  if (!projects || projects.length === 0) {
    return <p>No projects: environments are not grouped, and every runner serves everyone.</p>;
  }
  return (
    <div className="table-scroll">
      <table className="projects">
        <caption>Projects, their repositories and runners</caption>
        <thead>
          <tr>
            <th scope="col">Project</th>
            <th scope="col">Repository patterns</th>
            <th scope="col">Runners</th>
          </tr>
        </thead>
        <tbody>
          {projects.map((project) => (
            <tr key={project.name}>
              <th scope="row">{project.name}</th>
              <td>
                <Items items={project.repositoryPatterns} none="none" />
              </td>
              <td>
                <Items items={project.runners} none="any runner" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function egressRows(egress: EgressPolicy | undefined): [string, ReactNode][] {
  const rows: [string, ReactNode][] = [
    ['Default', egress?.default ? egressRuleText(egress.default) : 'nothing (no rule set)'],
  ];
  for (const [name, rule] of Object.entries(egress?.classes ?? {})) {
    rows.push([`Class ${name}`, egressRuleText(rule)]);
  }
  rows.push([
    'While an agent task runs',
    egress?.agents ? egressRuleText(egress.agents) : "the environment's own rule",
  ]);
  return rows;
}

function agentRows(agents: AgentPolicy | undefined): [string, ReactNode][] {
  const model = agents?.model;
  return [
    ['Tools', <Items key="tools" items={agents?.allowedTools} none="all tools" />],
    [
      'Denied commands',
      <Items key="denied" items={agents?.deniedCommandPatterns} none="none denied" />,
    ],
    [
      'Writable paths',
      <Items key="writable" items={agents?.writablePaths} none="the whole workspace" />,
    ],
    ['Running per user', limitText(agents?.maxRunningPerUser)],
    ['Running per organization', limitText(agents?.maxRunningPerOrg)],
    [
      'Model',
      model
        ? `${model.model} (${model.api} API) at ${model.baseUrl}${
            model.keySecret ? `, key from secret ${model.keySecret}` : ''
          }`
        : 'none set: each task names its own',
    ],
  ];
}

/** Every rule of the organization policy in words, with what an absent rule means. */
export function PolicySummary({ policy }: { policy: OrgPolicy }) {
  const never = (minutes: number | undefined, none: string) =>
    minutes === undefined ? none : `after ${minutesText(minutes)}`;
  return (
    <div className="policy-summary">
      <h3>Environments</h3>
      <Rules
        rows={[
          [
            'Repositories',
            <Items key="r" items={policy.allowedRepositoryPatterns} none="any repository" />,
          ],
          [
            'Classes',
            <Items key="c" items={policy.allowedClasses} none="any class a runner offers" />,
          ],
          ['Running per user', limitText(policy.maxRunningPerUser)],
          ['Running in the organization', limitText(policy.maxRunningPerOrg)],
          ['Idle stop', never(policy.idleStopAfterMin, 'never')],
          ['Maximum lifetime', never(policy.maxLifetimeMin, 'no limit')],
        ]}
      />
      <h3>Access</h3>
      <Rules
        rows={[
          ['Port sharing', portShareText[policy.maxPortShareLevel]],
          [
            'Break-glass',
            policy.breakGlass
              ? "on: owners and admins may open another member's environment, giving a reason"
              : "off: only an environment's owner opens it",
          ],
        ]}
      />
      <h3>Projects</h3>
      <Projects projects={policy.projects} />
      <h3>Egress</h3>
      <Rules rows={egressRows(policy.egress)} />
      <h3>Agents</h3>
      <Rules rows={agentRows(policy.agents)} />
      <p className="hint">
        {policy.updatedAt ? (
          <>
            Last changed <Time at={policy.updatedAt} /> by <code>{policy.updatedBy}</code>.
          </>
        ) : (
          'Never changed: these are the defaults.'
        )}
      </p>
    </div>
  );
}
