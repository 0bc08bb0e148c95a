import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, A } from './build.js';

const needle = p('needle', 'bytes', 'Bytes to find, literally (no pattern characters).');
const wait = (dflt: string) => opt('timeout', 'duration', 'How long to wait.', dflt);

export const capture: ClassSpec = {
  name: 'Capture',
  doc: 'A packet capture of a bridge (`bridge:capture()`) or of one NIC (`nic:capture()`): a libpcap savefile as a byte stream (Ethernet, snaplen 65535), in chunks of at most 64 KiB not aligned to frames; every chunk from the first, joined, is a valid `.pcap` file. `frames()` reads the same stream as parsed frames. Closed automatically at the end of the test (or file) that opened it; a failing test keeps the pcap of each capture still open among its artifacts.',
  fields: [],
  methods: [
    fn('next', [wait('10s')], 'bytes|nil', 'The next chunk (at most 64 KiB); nil on timeout, at the end or after `close`.', A),
    fn('read_until', [needle, wait('10s')], 'bytes', 'Every byte up to and including the first occurrence of `needle`; bytes after it are returned first by the next read. Raises on timeout ("timed out"), at the end ("EOF") and when closed ("closed").', A),
    fn('expect', [needle, wait('10s')], 'string', 'Like `read_until`, but returns the needle.', A),
    fn('drain', [wait('0.5s')], 'bytes[]', 'The unread bytes (what a read left first) and those that arrive within `timeout` or until the end, as chunks of at most 64 KiB; never raises on a timeout. After `close`: an empty list.', A),
    fn('frames', [wait('0.5s')], 'CaptureFrame[]', 'The whole frames unread now and those that arrive within `timeout` or until the end, parsed: `{time=, data=, len=}`. A frame partly read by `next`/`read_until`/`expect` is skipped; the file header is consumed too.', A),
    fn('dropped', [], 'integer', 'Frames lost because the capture was not read fast enough (at most 8 MiB wait unread; later frames are dropped whole and the stream stays a valid file).', A),
    fn('eof', [], 'boolean', 'True once the capture has ended (its bridge or NIC is gone) or been closed and nothing unread remains.', A),
    fn('close', [], 'nil', 'Stops the capture and drops the unread bytes. Idempotent.', A),
  ],
};
