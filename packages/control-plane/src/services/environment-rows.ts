import type {
  DesiredEnvironment,
  DesiredPhase,
  DesiredSecret,
  Environment,
  EnvironmentSpec,
  EnvironmentStatus,
  Phase,
} from '@hangar/api';

export interface EnvironmentRow {
  id: string;
  org_id: string;
  owner_id: string;
  runner_id: string;
  name: string;
  active_name: string | null;
  generation: number;
  spec: string;
  desired_phase: string;
  phase: string;
  status: string;
  status_version: number;
  operation_started_at: number | null;
  created_at: number;
  updated_at: number;
  last_active_at: number | null;
  [key: string]: string | number | null;
}

export function specOf(row: EnvironmentRow): EnvironmentSpec {
  return JSON.parse(row.spec) as EnvironmentSpec;
}

export function statusOf(row: EnvironmentRow): EnvironmentStatus {
  return JSON.parse(row.status) as EnvironmentStatus;
}

export function toEnvironment(row: EnvironmentRow): Environment {
  const environment: Environment = {
    id: row.id,
    orgId: row.org_id,
    ownerId: row.owner_id,
    runnerId: row.runner_id,
    name: row.name,
    generation: row.generation,
    statusVersion: row.status_version,
    spec: specOf(row),
    status: statusOf(row),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  if (row.last_active_at !== null) {
    environment.lastActiveAt = new Date(row.last_active_at).toISOString();
  }
  return environment;
}

/**
 * The desired state of one environment, with its shared ports at their effective levels and the
 * secrets it receives, sealed to its runner.
 */
export function toDesired(
  row: EnvironmentRow,
  ports: DesiredEnvironment['ports'],
  secrets: DesiredSecret[] = [],
): DesiredEnvironment {
  return {
    id: row.id,
    orgId: row.org_id,
    ownerId: row.owner_id,
    name: row.name,
    generation: row.generation,
    spec: specOf(row),
    ports,
    secrets,
  };
}

export function phaseOf(row: EnvironmentRow): Phase {
  return row.phase as Phase;
}

export function desiredOf(row: EnvironmentRow): DesiredPhase {
  return row.desired_phase as DesiredPhase;
}

export function initialStatus(now: number): EnvironmentStatus {
  return {
    phase: 'creating',
    observedGeneration: 0,
    conditions: [],
    steps: [],
    phaseChangedAt: new Date(now).toISOString(),
  };
}
