/** Ctrl-C during `provium test`: the first stops the work in order, a second quits at once. */

/** Installs the SIGINT handler for `stop`; returns its removal. `what`: what the first Ctrl-C stops, for the notice. */
export function onCtrlC(stop: AbortController, what: string): () => void {
  let interrupts = 0;
  const handler = () => {
    if (++interrupts > 1) process.exit(130); // a second Ctrl-C does not wait for cleanup
    process.stderr.write(`\ninterrupted: stopping ${what} (Ctrl-C again to quit at once)\n`);
    stop.abort();
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}
