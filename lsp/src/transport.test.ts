// HeaderFilter: good messages pass byte for byte, whatever the chunking; a bad header block is reported and skipped.
import { expect, test } from 'vitest';
import { HeaderFilter } from './transport.js';

const framed = (body: string, extra = '') => `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

function filter(input: string, chunk: number): { out: string; bad: string[] } {
  const bad: string[] = [];
  const f = new HeaderFilter((m) => bad.push(m));
  const out: Buffer[] = [];
  f.on('data', (d: Buffer) => out.push(d));
  const bytes = Buffer.from(input);
  for (let i = 0; i < bytes.length; i += chunk) f.write(bytes.subarray(i, i + chunk));
  return { out: Buffer.concat(out).toString(), bad };
}

test('well-framed messages pass unchanged, in one chunk or byte by byte', () => {
  const good = framed('{"jsonrpc":"2.0","id":1,"method":"a","params":"é Content-Length: 3\\r\\n\\r\\n"}') + framed('{}', 'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n');
  for (const chunk of [1, 7, good.length]) expect(filter(good, chunk)).toEqual({ out: good, bad: [] });
});

test('each bad header block is reported once and skipped with its body, up to the next Content-Length', () => {
  const a = framed('{"id":1}');
  const b = framed('{"id":2}');
  const input = [
    a,
    'Content-Type: x\r\n\r\n{"id":"lost"}',
    b,
    'content-length 3\r\n\r\n',
    'Content-Length: -1\r\n\r\nxyz',
    'x'.repeat(9000),
    a,
  ].join('');
  for (const chunk of [1, 5, input.length]) {
    const { out, bad } = filter(input, chunk);
    expect(out).toBe(a + b + a);
    expect(bad.map((m) => m.replace(/^Parse error: a message header without a usable Content-Length: /, ''))).toEqual([
      'no Content-Length header; skipped to the next Content-Length header',
      `header line without ':' ("content-length 3"); skipped to the next Content-Length header`,
      'Content-Length is not a number ("-1"); skipped to the next Content-Length header',
    ]);
  }
});

test('a stream of bytes with no blank line is reported once it is too long to be a header', () => {
  const { out, bad } = filter('garbage'.repeat(2000) + framed('{}'), 64);
  expect(out).toBe(framed('{}'));
  expect(bad).toHaveLength(1);
  expect(bad[0]).toMatch(/no blank line ends the header block within 8192 bytes/);
});
