// The `npm test` runner (the build has already run): collects every compiled test file, starts a
// throw-away PostgreSQL server unless HANGAR_TEST_POSTGRES_URL names one, runs `node --test`, and
// exits with its exit code.
//
//   node scripts/test.mjs                  every test
//   node scripts/test.mjs storage audit    only files whose path contains "storage" or "audit"
//   node scripts/test.mjs --test-name-pattern=chain audit    options starting with -- go to node
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from './postgres.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const postgresUrlVariable = 'HANGAR_TEST_POSTGRES_URL';
const concurrency = 2;
const handledSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function log(message) {
  process.stderr.write(`test: ${message}\n`);
}

function testFilesUnder(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFilesUnder(path);
    return entry.isFile() && entry.name.endsWith('.test.js') ? [path] : [];
  });
}

/** `packages/*\/dist/**\/*.test.js` and `test/dist/**\/*.test.js`, as paths from the root. */
function collectTestFiles() {
  const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'node_modules')
    .map((entry) => join(root, 'packages', entry.name, 'dist'));
  return [...packages, join(root, 'test', 'dist')]
    .flatMap(testFilesUnder)
    .map((path) => relative(root, path).split(sep).join('/'))
    .sort();
}

function exitCodeOf(code, signal) {
  if (code !== null) return code;
  return 128 + (constants.signals[signal] ?? 1);
}

async function main(args) {
  const nodeOptions = args.filter((arg) => arg.startsWith('--'));
  const filters = args.filter((arg) => !arg.startsWith('--'));
  const all = collectTestFiles();
  const files = filters.length ? all.filter((f) => filters.some((part) => f.includes(part))) : all;
  if (files.length === 0) {
    log(
      all.length === 0
        ? 'no compiled test files (*.test.js in packages/*/dist, test/dist); run `npm run build`'
        : `no test file path contains ${filters.map((f) => `"${f}"`).join(' or ')}`,
    );
    return 1;
  }

  let interrupted;
  let child;
  let postgres;
  const onSignal = (signal) => {
    interrupted ??= signal;
    if (child && child.exitCode === null) child.kill(signal);
  };
  for (const signal of handledSignals) process.on(signal, onSignal);

  try {
    if (process.env[postgresUrlVariable]) {
      log(`using PostgreSQL from ${postgresUrlVariable}`);
    } else {
      postgres = await startPostgres();
      log(`started PostgreSQL on 127.0.0.1:${postgres.port} for this run`);
    }
    if (interrupted) return exitCodeOf(null, interrupted);

    const env = {
      ...process.env,
      [postgresUrlVariable]: postgres?.url ?? process.env[postgresUrlVariable],
    };
    const nodeArgs = ['--test', `--test-concurrency=${concurrency}`];
    if (!process.stdout.isTTY) nodeArgs.push('--test-reporter=spec');
    log(`running ${files.length} test file${files.length === 1 ? '' : 's'}`);
    child = spawn(process.execPath, [...nodeArgs, ...nodeOptions, ...files], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    const [code, signal] = await new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    });
    return exitCodeOf(code, signal);
  } finally {
    await postgres?.stop();
    for (const signal of handledSignals) process.off(signal, onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    log(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
