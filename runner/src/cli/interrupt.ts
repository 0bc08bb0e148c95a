import { onStopSignal } from '../stop-signals.js';

/** Installs the handler that aborts `stop`; returns its removal. `what`: what the first signal stops, for the notice. */
export function onCtrlC(stop: AbortController, what: string): () => void {
  let interrupts = 0;
  return onStopSignal((sig) => {
    if (++interrupts > 1) process.exit(130); // a second signal does not wait for cleanup
    const again = sig === 'SIGINT' ? 'Ctrl-C again' : `${sig} again`;
    process.stderr.write(`\ninterrupted${sig === 'SIGINT' ? '' : ` (${sig})`}: stopping ${what} (${again} to quit at once)\n`);
    stop.abort();
  });
}
