/**
 * Long builds (the debian image: minutes, a root tree of hundreds of MB)
 * must clean up on Ctrl-C like on any failure. While `work` runs, SIGINT,
 * SIGTERM and SIGHUP abort its signal instead of ending the process at once:
 * the commands it runs are stopped, its `finally` blocks remove what it made.
 * Then, unless another listener handles that signal (the runner's own Ctrl-C
 * handling), the signal is raised again so the process ends as it would have.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function abortOnSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handlers = SIGNALS.map((sig) => {
    const handler = () => {
      received ??= sig;
      controller.abort(new Error(`interrupted by ${sig}`));
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  try {
    return await work(controller.signal);
  } finally {
    for (const [sig, handler] of handlers) process.off(sig, handler);
    if (received && process.listenerCount(received) === 0) process.kill(process.pid, received);
  }
}
