import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDurationMs, parseDurationS, parseTimeBound } from './durations.js';

describe('parseDurationS', () => {
  it('reads bare seconds and every unit', () => {
    assert.equal(parseDurationS('90'), 90);
    assert.equal(parseDurationS('1.5'), 1.5);
    assert.equal(parseDurationS('90s'), 90);
    assert.equal(parseDurationS('15m'), 900);
    assert.equal(parseDurationS('12h'), 43200);
    assert.equal(parseDurationS('30d'), 2592000);
    assert.equal(parseDurationS('2w'), 1209600);
  });

  it('refuses anything else', () => {
    for (const text of ['', 'd', '-5', '5y', '1h30m', 'ten', '5 m', '1e3']) {
      assert.equal(parseDurationS(text), undefined, text);
    }
  });
});

describe('parseTimeBound', () => {
  const now = Date.parse('2024-05-10T12:00:00Z');

  it('reads RFC 3339 times and dates, normalised to UTC', () => {
    assert.equal(parseTimeBound('2024-05-01T12:00:00Z', now), '2024-05-01T12:00:00.000Z');
    assert.equal(parseTimeBound('2024-05-01T14:00:00+02:00', now), '2024-05-01T12:00:00.000Z');
    assert.equal(parseTimeBound('2024-05-01', now), '2024-05-01T00:00:00.000Z');
  });

  it('reads an age as that long before now', () => {
    assert.equal(parseTimeBound('2h', now), '2024-05-10T10:00:00.000Z');
    assert.equal(parseTimeBound('7d', now), '2024-05-03T12:00:00.000Z');
  });

  it('refuses words, bare numbers and impossible dates', () => {
    for (const text of ['yesterday', '12', '2024-13-45', '2024/05/01', '']) {
      assert.equal(parseTimeBound(text, now), undefined, text);
    }
  });
});

describe('formatDurationMs', () => {
  it('picks a unit a person reads', () => {
    assert.equal(formatDurationMs(850), '850 ms');
    assert.equal(formatDurationMs(4200), '4.2 s');
    assert.equal(formatDurationMs(185000), '3 min 5 s');
  });
});
