import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  AuditExport,
  HangarError,
  fingerprint,
  publicKeyObject,
  validator,
  verifyChain,
} from '@hangar/api';
import { defineCommand } from '../command.js';
import type { Output } from '../output.js';
import { apiFlags, openSession } from '../session.js';

const checkExport = validator(AuditExport, 'the audit export');

interface Source {
  exported: unknown;
  /** The key the control plane says it signs with, when it was asked. */
  liveKey?: string;
  from: string;
}

async function readExportFile(path: string): Promise<Source> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new HangarError('not_found', `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return { exported: JSON.parse(text) as unknown, from: path };
  } catch (error) {
    throw new HangarError(
      'invalid_request',
      `${path} is not JSON (${(error as Error).message}); save one with \`hangar audit export\``,
    );
  }
}

function trustedKey(out: Output, source: Source, pinned: string | undefined, named: string) {
  if (pinned) return { key: pinned, origin: '--public-key' };
  if (source.liveKey) return { key: source.liveKey, origin: 'the control plane (GET /v1/health)' };
  out.warn(
    'the signing key comes from the export itself, so a rewritten export could carry its own ' +
      'key; pass --public-key (the publicKey of GET /v1/health on the control plane) to pin it',
  );
  return { key: named, origin: 'the export file' };
}

function keyObject(key: string, origin: string) {
  try {
    return publicKeyObject(key);
  } catch {
    throw new HangarError('invalid_request', `the public key from ${origin} is not an Ed25519 key`);
  }
}

export const command = defineCommand({
  synopsis: '[--file F] [--public-key KEY]',
  description:
    'Re-checks the whole audit chain offline: every record against its hash and its link to ' +
    'the one before, and every signed checkpoint against the control plane key. Reads the ' +
    'export from the control plane, or a saved one with --file. Exits 1 and names the first ' +
    'bad record when one was edited, removed or reordered.',
  spec: {
    flags: {
      ...apiFlags,
      file: { type: 'string', valueName: 'F', describe: 'verify a saved `hangar audit export`' },
      'public-key': {
        type: 'string',
        valueName: 'KEY',
        describe: 'the control plane Ed25519 public key (base64url) to trust',
      },
    },
  },
  async run({ io, out }, { flags }) {
    let source: Source;
    if (flags.file !== undefined) {
      source = await readExportFile(resolve(io.cwd, flags.file));
    } else {
      const { api, credentials } = await openSession(io, flags);
      const exported = await api.get<unknown>('/v1/audit/export');
      const health = await api.get<{ publicKey: string }>('/v1/health');
      source = { exported, liveKey: health.publicKey, from: credentials.controlPlaneUrl };
    }
    const data = checkExport(source.exported);
    const trusted = trustedKey(out, source, flags['public-key'], data.publicKey);
    const key = keyObject(trusted.key, trusted.origin);
    if (trusted.key !== data.publicKey) {
      out.warn(
        `the export names signing key ${fingerprint(data.publicKey)}, not the trusted ` +
          `${fingerprint(trusted.key)}: its checkpoints are checked against the trusted one`,
      );
    }
    const verification = verifyChain(data.records, data.checkpoints, key);
    const value = {
      ...verification,
      orgId: data.orgId,
      source: source.from,
      publicKeyFingerprint: fingerprint(trusted.key),
      keySource: trusted.origin,
    };
    if (verification.ok && data.checkpoints.length === 0 && data.records.length > 0) {
      out.warn(
        'the export holds no signed checkpoint: nothing ties the chain to the control plane',
      );
    }
    out.result(value, () =>
      verification.ok
        ? [
            `audit chain of ${data.orgId} verified: ${verification.records} records, ` +
              `${verification.checkpoints} signed checkpoints, head seq ${verification.headSeq}`,
            `signing key ${value.publicKeyFingerprint} from ${trusted.origin}`,
          ]
        : [
            `audit chain of ${data.orgId} is BROKEN at record seq ${verification.problem?.seq}: ` +
              `${verification.problem?.reason}`,
          ],
    );
    if (!verification.ok) {
      out.info(
        `audit verify failed: first bad record seq ${verification.problem?.seq} ` +
          `(${verification.problem?.reason})`,
      );
      return 1;
    }
    return 0;
  },
});
