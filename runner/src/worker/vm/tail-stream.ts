/** `vm:tail_file`, `vm:fd_stream` and `file:tail_stream`: Streams over the agent's tails. */
import type { AgentTail } from '@provium/agent';
import type { FileHandle, VmHandle } from './handles.js';
import type { VmSession } from './session.js';
import { Stream } from './stream.js';

const START_FORMS = '"end", "beginning", "start", an offset >= 0, or a negative number of bytes before the end';

/** `tail_file`'s `opts.start` as the agent takes it: an offset from the start, or (fromEnd) back from the end. */
export function tailStart(start: string | number | undefined): { offset: number; fromEnd: boolean } {
  if (start === undefined || start === 'end') return { offset: 0, fromEnd: true };
  if (start === 'beginning' || start === 'start') return { offset: 0, fromEnd: false };
  if (typeof start === 'string') throw new Error(`tail_file: opts.start must be ${START_FORMS}; got "${start}"`);
  const n = Math.trunc(start); // the original truncates a float toward zero
  if (!Number.isSafeInteger(n)) throw new Error(`tail_file: opts.start must be ${START_FORMS}; got ${start}`);
  return { offset: Math.abs(n), fromEnd: n < 0 };
}

/** A Stream of an agent tail; closing it stops the tail in the guest. */
async function streamOf(session: VmSession, label: string, started: Promise<AgentTail>): Promise<Stream> {
  const tail = await session.guard(started);
  const endCause = async () => {
    if (tail.lost) return (await session.lostCause()) ?? new Error(`${label}: ${tail.endReason}`);
    return tail.endReason === undefined ? undefined : new Error(`${label}: the guest could not read on: ${tail.endReason}`);
  };
  const s = new Stream(label, endCause);
  s.attach((push, end) => {
    tail.data.on('data', push);
    tail.data.on('end', end);
    return () => {
      tail.data.off('data', push);
      tail.data.off('end', end);
      // the VM may be paused or gone: the tail goes with its agent session then
      tail.close().catch(() => {});
    };
  });
  return s;
}

export function tailFile(session: VmSession, path: string, start: string | number | undefined): Promise<Stream> {
  const { offset, fromEnd } = tailStart(start);
  return streamOf(session, `${session.label}: tail_file("${path}")`, session.agentFor().tailFile(path, offset, fromEnd));
}

/** `file:tail_stream()`: the file's path from the File's current offset. */
export async function fileTail(f: FileHandle): Promise<Stream> {
  const session = f.vm.session;
  const offset = await session.guard(f.use().tell());
  return streamOf(session, `${session.label}: tail_stream("${f.path}")`, session.agentFor().tailFile(f.path, offset, false));
}

/** `vm:fd_stream(fd_or_file)`: the File itself, or the open File of `vm` whose `fd()` it is. */
export function fdStream(vm: VmHandle, fdOrFile: number | FileHandle): Promise<Stream> {
  const session = vm.session;
  const f = typeof fdOrFile === 'number' ? fileWithFd(vm, fdOrFile) : fdOrFile;
  if (f.vm.session !== session) throw new Error(`${session.label}: fd_stream: file ${f.path} is open on ${f.vm.session.label}, not on this VM; call fd_stream on that VM`);
  return streamOf(session, `${session.label}: fd_stream("${f.path}", fd ${f.file.handle})`, f.use().stream());
}

function fileWithFd(vm: VmHandle, fd: number): FileHandle {
  for (const f of vm.session.openFiles as Set<FileHandle>) if (f.file.handle === fd) return f;
  throw new Error(`${vm.session.label}: fd_stream: no open File has fd ${fd}; pass an open File, or its file:fd()`);
}
