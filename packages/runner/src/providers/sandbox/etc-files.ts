import { lstatSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The sandbox's /etc: a few generated files plus a short list of host entries that programs need
 * and that hold no secrets. Everything else in the host's /etc (shadow, ssh keys, resolv.conf,
 * machine-id, credentials in npmrc or pip.conf, ...) stays out.
 */
export const hostEtcEntries = [
  'alternatives',
  'bash.bashrc',
  'ca-certificates.conf',
  'debian_version',
  'gai.conf',
  'host.conf',
  'inputrc',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'locale.alias',
  'localtime',
  'magic',
  'magic.mime',
  'mime.types',
  'os-release',
  'pki/ca-trust/extracted',
  'pki/tls/certs',
  'profile',
  'protocols',
  'services',
  'shells',
  'ssl/certs',
  'ssl/openssl.cnf',
  'terminfo',
  'timezone',
] as const;

/** Configuration of language runtimes in the image (Java's security files live in /etc). */
export const hostEtcPatterns = [/^java-\d+-openjdk$/, /^python3(\.\d+)?$/, /^perl$/] as const;

export interface EtcUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** One entry of the sandbox's /etc: a file or directory bound read-only, or a symlink. */
export type EtcMount =
  | { kind: 'bind'; source: string; dest: string }
  | { kind: 'symlink'; target: string; dest: string };

export function generatedEtcFiles(user: EtcUser, hostname: string): Record<string, string> {
  return {
    passwd:
      'root:x:0:0:root:/root:/usr/sbin/nologin\n' +
      `${user.name}:x:${user.uid}:${user.gid}:${user.name}:${user.home}:${user.shell}\n` +
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
    group: `root:x:0:\n${user.name}:x:${user.gid}:\nnogroup:x:65534:\n`,
    hosts: `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
    hostname: `${hostname}\n`,
    'nsswitch.conf':
      'passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\n' +
      'protocols: files\nservices: files\n',
  };
}

/** Writes the generated files into `dir` and returns the mounts for the whole /etc. */
export function prepareEtc(options: {
  dir: string;
  user: EtcUser;
  hostname: string;
  hostEtc?: string;
}): EtcMount[] {
  mkdirSync(options.dir, { recursive: true, mode: 0o755 });
  const mounts: EtcMount[] = [];
  for (const [name, content] of Object.entries(generatedEtcFiles(options.user, options.hostname))) {
    const source = join(options.dir, name);
    writeFileSync(source, content, { mode: 0o644 });
    mounts.push({ kind: 'bind', source, dest: `/etc/${name}` });
  }
  return [...mounts, ...hostEtcMounts(options.hostEtc ?? '/etc')];
}

/** Host entries that exist: symlinks are recreated as symlinks, the rest bound read-only. */
export function hostEtcMounts(hostEtc: string): EtcMount[] {
  const mounts: EtcMount[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(hostEtc).filter((name) => hostEtcPatterns.some((re) => re.test(name)));
  } catch {
    names = [];
  }
  for (const entry of [...hostEtcEntries, ...names]) {
    const source = join(hostEtc, entry);
    const dest = `/etc/${entry}`;
    try {
      const stats = lstatSync(source);
      if (stats.isSymbolicLink())
        mounts.push({ kind: 'symlink', target: readlinkSync(source), dest });
      else if (stats.isFile() || stats.isDirectory()) mounts.push({ kind: 'bind', source, dest });
    } catch {
      continue;
    }
  }
  return mounts;
}
