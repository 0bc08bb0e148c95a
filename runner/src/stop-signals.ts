/**
 * Stopping provium from outside: Ctrl-C, and the SIGTERM or SIGHUP that a CI runner's
 * timeout, `timeout(1)`, `kill` or a closed terminal sends. Each is handled as Ctrl-C:
 * the first stops the work in order (QEMU processes ended, partial files removed), a
 * second quits at once. An unhandled SIGTERM would end Node before any of that.
 */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Installs `handler` for every stop signal; returns its removal. */
export function onStopSignal(handler: (sig: NodeJS.Signals) => void): () => void {
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}
