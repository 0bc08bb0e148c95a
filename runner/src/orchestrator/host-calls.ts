/** Answers a worker's `host_call` from the main thread's HostServices. */
import type { HostCall, HostMessage, HostServices } from '@provium/types';

export function serveHostCall(host: HostServices | undefined, id: number, call: HostCall, reply: (m: HostMessage) => void): void {
  if (!host) {
    reply({ kind: 'host_reply', id, ok: false, error: `internal: no host services in this run for ${call.method}` });
    return;
  }
  const fn = host[call.method] as (...args: unknown[]) => Promise<unknown>;
  fn.apply(host, call.args).then(
    (value) => reply({ kind: 'host_reply', id, ok: true, value }),
    (e: unknown) => reply({ kind: 'host_reply', id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
}
