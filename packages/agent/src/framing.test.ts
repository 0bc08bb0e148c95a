import { describe, expect, it } from 'vitest';
import { FRAME_MAGIC, MAX_FRAME_BYTES } from '@provium/types/agent-protocol';
import { decodeValue, encodeValue } from './codec.js';
import { encodeFrame, encodeMessageFrame, FrameDecoder } from './framing.js';

const a = encodeFrame(Buffer.from('first'));
const b = encodeFrame(Buffer.from('second'));

function feed(decoder: FrameDecoder, chunks: Buffer[]): { frames: string[]; problems: string[] } {
  const frames: string[] = [];
  const problems: string[] = [];
  for (const c of chunks) {
    const out = decoder.push(c);
    frames.push(...out.frames.map((f) => f.toString()));
    problems.push(...out.problems);
  }
  return { frames, problems };
}

describe('encodeMessageFrame', () => {
  it('is encodeFrame of the encoded message, in one buffer', () => {
    const message = { t: 'req', id: 7, op: 'exec', cmd: 'true' };
    const frame = encodeMessageFrame(message);
    expect(frame).toEqual(encodeFrame(encodeValue(message)));
    expect(decodeValue(new FrameDecoder().push(frame).frames[0])).toEqual(message);
  });
});

describe('FrameDecoder', () => {
  it('reassembles frames split at every possible boundary', () => {
    const stream = Buffer.concat([a, b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const out = feed(new FrameDecoder(), [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(out).toEqual({ frames: ['first', 'second'], problems: [] });
    }
  });

  it('handles byte-by-byte delivery', () => {
    const stream = Buffer.concat([a, b]);
    const out = feed(new FrameDecoder(), [...stream].map((x) => Buffer.of(x)));
    expect(out.frames).toEqual(['first', 'second']);
  });

  it('skips garbage, including a false partial magic, and reports it once in sync', () => {
    const garbage = Buffer.concat([Buffer.from('junk'), Buffer.from(FRAME_MAGIC.subarray(0, 2))]);
    const out = feed(new FrameDecoder(), [garbage, a]);
    expect(out).toEqual({ frames: ['first'], problems: ['skipped 6 bytes that were not a frame (bad magic)'] });
  });

  it('skips an oversized length and resynchronises', () => {
    const header = Buffer.alloc(8);
    Buffer.from(FRAME_MAGIC).copy(header);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 4);
    const out = feed(new FrameDecoder(), [header, b]);
    expect(out.frames).toEqual(['second']);
    expect(out.problems).toEqual([
      `frame of ${MAX_FRAME_BYTES + 1} bytes exceeds the limit of ${MAX_FRAME_BYTES}; skipped`,
      'skipped 7 bytes that were not a frame (bad magic)',
    ]);
  });
});
