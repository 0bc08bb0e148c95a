/** Answers of the agent as AgentClient gives them: shared by the single ops and `batch`. */
import type { AgentResults } from '@provium/types/agent-protocol';
import type { DirEntry, ExecResult, FileStat } from './client-types.js';
import type { Value } from './codec.js';
import { exitInfoFrom } from './process.js';

export function execResultFrom(msg: { [key: string]: Value }): ExecResult {
  const exit = exitInfoFrom(msg);
  return { ...exit, timedOut: exit.status === 'timed_out', stdout: msg.stdout as Buffer, stderr: msg.stderr as Buffer };
}

export function statFrom(s: AgentResults['stat']): FileStat {
  return {
    size: s.size,
    mtime: s.mtime_sec + s.mtime_nsec / 1e9,
    mtimeSec: s.mtime_sec,
    mtimeNsec: s.mtime_nsec,
    perm: s.perm,
    entryType: s.entry_type,
    uid: s.uid,
    gid: s.gid,
  };
}

export function entriesFrom({ entries }: AgentResults['listdir']): DirEntry[] {
  return entries.map((e) => ({ name: e.name, entryType: e.entry_type }));
}
