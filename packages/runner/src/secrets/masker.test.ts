import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Masker, formsOf, maskReplacement } from './masker.js';

const canary = 'canary-7f3k/Q+z é"x\\y';
const masker = new Masker([Buffer.from(canary)]);

function leaks(text: string, value: string): boolean {
  return text.includes(value) || text.includes(value.slice(0, Math.ceil(value.length / 2) + 1));
}

test('the raw value and each encoded form become ***', () => {
  const json = JSON.stringify(canary).slice(1, -1);
  const uri = encodeURIComponent(canary);
  const form = uri.replaceAll('%20', '+');
  for (const shown of [canary, json, uri, form]) {
    const out = masker.maskText(`before ${shown} after`);
    assert.equal(out, `before ${maskReplacement} after`, shown);
  }
});

test('base64 (standard and url-safe) is masked at each of the three offsets', () => {
  for (const prefix of ['', 'a', 'ab', 'abc', 'abcd']) {
    for (const suffix of ['', 'z', 'zz']) {
      const whole = Buffer.from(`${prefix}${canary}${suffix}`);
      for (const encoded of [whole.toString('base64'), whole.toString('base64url')]) {
        const out = masker.maskText(`token: ${encoded}\n`);
        assert.ok(out.includes(maskReplacement), `${prefix}|${suffix}: ${out}`);
        // Left: the neighbours' characters and the few that mix them with the value's bytes.
        const kept = out.replace(`token: `, '').replace('\n', '').replace(maskReplacement, '');
        const neighbours = Math.ceil(((prefix.length + suffix.length) * 4) / 3);
        assert.ok(kept.length <= neighbours + 6, `${prefix}|${suffix}: kept ${kept}`);
      }
    }
  }
});

test('unrelated text passes unchanged, and short values are not masked', () => {
  const text = 'npm install finished in 4.2s; 17 packages, canary-7 of 9 {"ok":true} Y2FuYX\n';
  assert.equal(masker.maskText(text), text);
  const short = new Masker([Buffer.from('abc'), Buffer.from('')]);
  assert.ok(short.empty);
  assert.equal(short.maskText('abc abcdef'), 'abc abcdef');
  const four = new Masker([Buffer.from('abcd')]);
  assert.equal(four.maskText('x abcd y'), `x ${maskReplacement} y`);
});

test('overlapping values and overlapping matches become one ***', () => {
  const two = new Masker([Buffer.from('abcdef12'), Buffer.from('ef12ghij')]);
  assert.equal(two.maskText('[abcdef12ghij]'), `[${maskReplacement}]`);
  const nested = new Masker([Buffer.from('secret-long-value'), Buffer.from('long')]);
  assert.equal(nested.maskText('a secret-long-value b long c'), `a *** b *** c`);
  const repeated = new Masker([Buffer.from('aaaa')]);
  assert.equal(repeated.maskText('xaaaaaay'), `x${maskReplacement}y`);
});

test('binary values are masked as bytes and in base64', () => {
  const value = Buffer.from([0xff, 0x00, 0x10, 0x80, 0xfe, 0x7f]);
  const binary = new Masker([value]);
  const out = binary.mask(Buffer.concat([Buffer.from('<'), value, Buffer.from('>')]));
  assert.equal(out.toString('latin1'), `<${maskReplacement}>`);
  assert.equal(binary.maskText(`b64 ${value.toString('base64')}`), `b64 ${maskReplacement}`);
  assert.ok(formsOf(value).length >= 4);
});

test('a stream masks a value split across two chunks at every offset', () => {
  for (const shown of [canary, Buffer.from(canary).toString('base64')]) {
    const whole = Buffer.from(`line one\nthe value ${shown} ends here\n`);
    for (let split = 0; split <= whole.length; split += 1) {
      const stream = masker.stream();
      const out = Buffer.concat([
        stream.push(whole.subarray(0, split)),
        stream.push(whole.subarray(split)),
        stream.end(),
      ]).toString();
      assert.equal(out, masker.maskText(whole.toString()), `split ${split}`);
      assert.match(out, /^line one\nthe value \*\*\*(Q==)? ends here\n$/);
      assert.ok(!leaks(out, canary));
    }
  }
});

test('a stream masks a value arriving one byte at a time and holds back little', () => {
  const whole = Buffer.from(`x${canary}y${canary}`);
  const stream = masker.stream();
  const parts: Buffer[] = [];
  for (const byte of whole) {
    const out = stream.push(Buffer.from([byte]));
    parts.push(out);
  }
  parts.push(stream.end());
  assert.equal(Buffer.concat(parts).toString(), `x${maskReplacement}y${maskReplacement}`);
  const plain = masker.stream();
  assert.equal(plain.push(Buffer.from('ordinary output\n')).toString(), 'ordinary output\n');
  const held = plain.push(Buffer.from('then canary-7f3'));
  assert.equal(held.toString(), 'then ');
  assert.ok(Buffer.from('canary-7f3').length < masker.longest);
  assert.equal(plain.end().toString(), 'canary-7f3');
});

test('an empty masker passes chunks through untouched', () => {
  const stream = Masker.none.stream();
  const chunk = Buffer.from('anything');
  assert.equal(stream.push(chunk), chunk);
  assert.equal(stream.end().length, 0);
});

const reviewed = 'Zq8/x+T3 p\u00e4ss-w\u00f6rd_1234';
const reviewedMasker = new Masker([Buffer.from(reviewed)]);

function masked(text: string): boolean {
  return reviewedMasker.maskText(`<${text}>`) === `<${maskReplacement}>`;
}

test('hex, lower and upper case, is masked (od, xxd -p, sha tools print hex)', () => {
  const hex = Buffer.from(reviewed).toString('hex');
  assert.ok(masked(hex));
  assert.ok(masked(hex.toUpperCase()));
  const everyByte = hex.replace(/../g, '%$&');
  assert.ok(masked(everyByte), 'od | tr " " "%": every byte percent-encoded');
  assert.ok(masked(everyByte.toUpperCase()));
});

test('percent-encoding in lower-case hex, and with reserved characters kept, is masked', () => {
  const lower = (text: string) => text.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
  const component = encodeURIComponent(reviewed);
  assert.ok(masked(lower(component)));
  assert.ok(masked(encodeURI(reviewed)));
  assert.ok(masked(lower(encodeURI(reviewed))));
  // Python's quote(value): '/' kept, and ! * ' ( ) encoded (which encodeURIComponent keeps).
  const python = new Masker([Buffer.from("a/b!c*d'e(f)g h")]);
  for (const form of ['a/b%21c%2Ad%27e%28f%29g%20h', 'a%2Fb%21c%2Ad%27e%28f%29g+h']) {
    assert.equal(python.maskText(`[${form}]`), `[${maskReplacement}]`, form);
    assert.equal(python.maskText(`[${lower(form)}]`), `[${maskReplacement}]`, lower(form));
  }
});

test('JSON with \\u escapes for non-ASCII (ensure_ascii) and with \\/ is masked', () => {
  const plain = JSON.stringify(reviewed).slice(1, -1);
  const ascii = plain.replace(
    /[\u0080-\uffff]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  assert.notEqual(ascii, plain);
  const upperHex = ascii.replace(
    /\\u([0-9a-f]{4})/g,
    (_, hex: string) => `\\u${hex.toUpperCase()}`,
  );
  for (const form of [ascii, upperHex, plain]) {
    assert.ok(masked(form), form);
    assert.ok(masked(form.replaceAll('/', '\\/')), form.replaceAll('/', '\\/'));
  }
  const astral = new Masker([Buffer.from('key-\u{1f511}-value')]);
  assert.equal(astral.maskText('"key-\\ud83d\\udd11-value"'), `"${maskReplacement}"`);
});

test('a value that is not UTF-8 is masked as a program decoding it to text prints it', () => {
  const bytes = Buffer.from([0x6b, 0x65, 0x79, 0x2d, 0xff, 0x41, 0x42, 0x43, 0x44, 0x45]);
  const binary = new Masker([bytes]);
  assert.equal(binary.mask(Buffer.from(bytes.toString('utf8'))).toString(), maskReplacement);
  assert.equal(binary.mask(bytes).toString(), maskReplacement);
});

/** The output of a stream fed `parts`, then ended. */
function streamed(streamMasker: Masker, parts: string[]): string {
  const stream = streamMasker.stream();
  const out = parts.map((part) => stream.push(Buffer.from(part)).toString());
  return out.join('') + stream.end().toString();
}

test('a stream masks a value repeating itself across chunks as the whole is masked', () => {
  const periodic = new Masker([Buffer.from('abcdabcd')]);
  for (const text of ['abcdabcdabcd', 'x abcdabcdabcdabcd y', 'abcdabcd abcdabcd']) {
    const whole = periodic.maskText(text);
    for (let split = 0; split <= text.length; split += 1) {
      const out = streamed(periodic, [text.slice(0, split), text.slice(split)]);
      assert.equal(out, whole, `${text} split at ${split}`);
    }
    assert.equal(streamed(periodic, [...text]), whole, `${text} byte by byte`);
  }
  assert.equal(periodic.maskText('abcdabcdabcd'), maskReplacement);
});

test('a stream masks two values whose ends overlap, split anywhere, as one ***', () => {
  const two = new Masker([Buffer.from('token-AAAA-BBBB'), Buffer.from('BBBB-CCCC-DDDD')]);
  const text = 'x token-AAAA-BBBB-CCCC-DDDD y token-AAAA-BBBB z BBBB-CCCC-DDDD';
  const whole = two.maskText(text);
  assert.equal(whole, `x ${maskReplacement} y ${maskReplacement} z ${maskReplacement}`);
  for (let split = 0; split <= text.length; split += 1) {
    for (let second = split; second <= text.length; second += 7) {
      const parts = [text.slice(0, split), text.slice(split, second), text.slice(second)];
      assert.equal(streamed(two, parts), whole, `split at ${split} and ${second}`);
    }
  }
});
