import type { paths } from '../api-types.js';

type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** What `GET /v1/audit/export` answers: the whole chain, its signed checkpoints and the key. */
export type AuditExport = Json<paths['/v1/audit/export']['get']['responses'][200]>;

export type AuditRecord = AuditExport['records'][number];

export type AuditCheckpoint = AuditExport['checkpoints'][number];

/** One page of `GET /v1/audit`. */
export type AuditPage = Json<paths['/v1/audit']['get']['responses'][200]>;

/** The filters and paging `GET /v1/audit` takes. */
export type AuditQuery = NonNullable<paths['/v1/audit']['get']['parameters']['query']>;

/** Where a chain first goes wrong: the record (or checkpoint) sequence number, and why. */
export interface ChainProblem {
  seq: number;
  reason: string;
}

/** The outcome of checking a chain, in the same shape the CLI's `hangar audit verify` prints. */
export interface ChainVerification {
  ok: boolean;
  records: number;
  checkpoints: number;
  headSeq: number;
  headHash: string;
  problem?: ChainProblem;
}
