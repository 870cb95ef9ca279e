import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { EnvdClient, SandboxSpec } from '../provider.js';
import { SANDBOX_LOG_MAX_BYTES } from './launch.js';
import { environmentPaths } from './layout.js';
import { run, sandboxFixture, shell, type SandboxFixture } from './test-support.js';

// The sandbox's stdout and stderr (held by bwrap's init and envd) are the only host-side files a
// process inside could reach, by copying those descriptors out of them with pidfd_getfd.
let fixture: SandboxFixture;
let spec: SandboxSpec;
let client: EnvdClient;

before(async () => {
  fixture = sandboxFixture();
  spec = fixture.spec();
  await fixture.provider.start(spec);
  client = await fixture.provider.connect(spec.environmentId);
});

after(async () => {
  client.close();
  await fixture.cleanup();
});

/**
 * Perl (part of every Debian base system) makes the raw syscalls, pidfd_open and pidfd_getfd,
 * and writes through each descriptor it gets (they are non-blocking: it waits when full).
 */
const floodScript = `
  my ($total, $wrote) = (${4 * SANDBOX_LOG_MAX_BYTES}, 0);
  my $chunk = "x" x 65536;
  for my $pid (1, 2) {
    for my $target (1, 2) {
      my $pidfd = syscall(434, $pid, 0);
      next if $pidfd < 0;
      my $fd = syscall(438, $pidfd, $target, 0);
      next if $fd < 0;
      open(my $out, ">&=", $fd) or next;
      for (my $n = 0; $n < $total;) {
        my $written = syswrite($out, $chunk);
        if (defined $written) { $n += $written; $wrote += $written; }
        elsif ($!{EAGAIN}) { select(undef, undef, undef, 0.002); }
        else { last; }
      }
      close $out;
    }
  }
  print "$wrote\n";
`;

async function settledSize(path: string): Promise<number> {
  let last = -1;
  for (let round = 0; round < 50; round += 1) {
    const size = statSync(path).size;
    if (size === last) return size;
    last = size;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return last;
}

test('no descriptor inside names a host file, and what is written there is capped', async (t) => {
  const links = await shell(client, 'readlink /proc/1/fd/1 /proc/1/fd/2 /proc/2/fd/1 /proc/2/fd/2');
  assert.doesNotMatch(links, new RegExp(fixture.root), `host paths leak: ${links}`);

  const flood = await run(client, ['perl', '-e', floodScript]);
  assert.equal(flood.outcome.exitCode, 0, flood.stderr.toString());
  const wrote = Number(flood.stdout.toString().trim());
  t.diagnostic(`bytes written through descriptors taken from bwrap's init and envd: ${wrote}`);

  const log = environmentPaths(fixture.dataDir, spec.environmentId).log;
  const size = await settledSize(log);
  assert.ok(size <= SANDBOX_LOG_MAX_BYTES, `the log holds ${size} bytes`);
  assert.match(readFileSync(log, 'utf8').slice(0, 1000), /envd listening/);
  assert.equal(await shell(client, 'echo still answering'), 'still answering\n');
});
