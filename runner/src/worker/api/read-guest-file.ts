/** `vm:read_file`: the whole file, or a refusal that says how big it is and what to use instead. */
import type { AgentError } from '@provium/agent';
import { MAX_COLLECT_BYTES } from '@provium/types/agent-protocol';
import type { VmSession } from '../vm/session.js';

const MIB = 1024 * 1024;

export async function readGuestFile(session: VmSession, path: string): Promise<Buffer> {
  const agent = session.agentFor();
  try {
    return await session.guard(agent.readFile(path));
  } catch (e) {
    // The agent refuses a regular file over MAX_COLLECT_BYTES before reading it (and stops
    // at MAX_COLLECT_BYTES + 1 for one that grows); only then is the size looked up, to keep
    // small reads one round trip.
    if ((e as Error)?.name !== 'AgentError' || (e as AgentError).code !== 'EFBIG') throw e;
    const size = await session.guard(agent.stat(path)).then((s) => s.size, () => undefined);
    throw new Error(tooBigMessage(session.label, path, size));
  }
}

function tooBigMessage(label: string, path: string, size: number | undefined): string {
  const limit = `${MAX_COLLECT_BYTES / MIB} MiB`;
  const what =
    size !== undefined && size > MAX_COLLECT_BYTES
      ? `is ${size} bytes (${(size / MIB).toFixed(1)} MiB), over the ${limit} that read_file returns`
      : `holds more than the ${limit} that read_file returns (its size says ${size ?? 'nothing'}: it grows, or is a device)`;
  return `${label}: ${JSON.stringify(path)} ${what}; read it in parts with vm:open_file(path) and file:read(n), or follow it with vm:tail_file(path)`;
}
