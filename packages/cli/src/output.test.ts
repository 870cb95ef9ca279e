import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HangarError } from '@hangar/api';
import { Output, age, table } from './output.js';
import { Sink } from './testing/capture-io.js';

function streams() {
  return { stdout: new Sink(), stderr: new Sink() };
}

describe('Output', () => {
  it('writes text results to stdout and progress to stderr', () => {
    const io = streams();
    const out = new Output(io, { json: false });
    out.result({ a: 1 }, () => ['line one', 'line two']);
    out.info('progress');
    out.warn('careful');
    assert.equal(io.stdout.text(), 'line one\nline two\n');
    assert.equal(io.stderr.text(), 'progress\nwarning: careful\n');
  });

  it('writes JSON results to stdout with --json, and keeps progress on stderr', () => {
    const io = streams();
    const out = new Output(io, { json: true });
    out.result({ a: 1, b: ['x'] }, () => 'not this');
    out.info('progress');
    assert.deepEqual(JSON.parse(io.stdout.text()), { a: 1, b: ['x'] });
    assert.equal(io.stderr.text(), 'progress\n');
  });

  it('prints an error with its code, fields and request id to stderr', () => {
    const io = streams();
    const out = new Output(io, { json: false });
    const error = new HangarError('invalid_request', 'the body is not valid', {
      fields: [{ field: 'name', message: 'is too long' }],
      details: { requestId: 'req_abc' },
    });
    out.error(error, 'try again');
    assert.equal(
      io.stderr.text(),
      'error invalid_request: the body is not valid\n  name: is too long\n  request id: req_abc\n' +
        'try again\n',
    );
    assert.equal(io.stdout.text(), '');
  });

  it('also prints the error as JSON on stdout with --json', () => {
    const io = streams();
    const out = new Output(io, { json: true });
    out.error(new HangarError('not_found', 'no such thing', { details: { requestId: 'req_1' } }));
    assert.deepEqual(JSON.parse(io.stdout.text()), {
      error: { code: 'not_found', message: 'no such thing', requestId: 'req_1' },
    });
    assert.match(io.stderr.text(), /^error not_found: no such thing/);
  });

  it('names the refusing policy in the JSON error', () => {
    const io = streams();
    const out = new Output(io, { json: true });
    const details = { requestId: 'req_2', policy: 'maxRunningPerUser' };
    out.error(new HangarError('forbidden', 'the limit is reached', { details }));
    const printed = JSON.parse(io.stdout.text()) as { error: { policy?: string } };
    assert.equal(printed.error.policy, 'maxRunningPerUser');
  });

  it('writes raw bytes untouched', () => {
    const io = streams();
    new Output(io, { json: false }).raw(Buffer.from([0xff, 0x00, 0xfe]));
    assert.deepEqual(io.stdout.bytes(), Buffer.from([0xff, 0x00, 0xfe]));
  });
});

describe('table', () => {
  it('aligns columns and trims trailing blanks', () => {
    assert.deepEqual(
      table(
        ['A', 'BB'],
        [
          ['xxx', 'y'],
          ['z', ''],
        ],
      ),
      ['A    BB', 'xxx  y', 'z'],
    );
  });
});

describe('age', () => {
  it('says how long ago', () => {
    const now = Date.parse('2024-05-10T12:00:00Z');
    assert.equal(age(undefined, now), '-');
    assert.equal(age('2024-05-10T11:59:30Z', now), '30s ago');
    assert.equal(age('2024-05-10T11:00:00Z', now), '1h ago');
    assert.equal(age('2024-05-08T12:00:00Z', now), '2d ago');
  });
});
