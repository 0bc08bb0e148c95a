/**
 * The tinypool worker module. Its default export is a session (see
 * pool/protocol.ts): one long-lived task per thread that runs the test files
 * sent over its control port one after the other, each posting `started`, its
 * messages and `file_done` on the file's own port. One tinypool task per file
 * cost about a millisecond each (dispatch, memoryUsage(), the result on
 * tinypool's channel), and the thread sat idle while the main thread sent the
 * next file: now the next file is usually waiting here already.
 * Imports nothing from the main thread's side.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FileTask } from '@provium/types';
import type { ControlMessage, FileLifecycle } from '../pool/protocol.js';
import { runLuaFileHeld } from './run-file.js';
import { PortHost } from './vm/host-client.js';

type Queued = { id: number; task: FileTask; port: MessagePort };

export default function runSession({ control }: { control: MessagePort }): Promise<void> {
  return new Promise<void>((resolve) => {
    const queue: Queued[] = [];
    let busy = false;
    let ending = false;
    const post = (port: MessagePort, m: FileLifecycle) => port.postMessage(m);
    const next = () => {
      if (busy) return;
      if (queue.length === 0) {
        if (ending) {
          control.close();
          resolve();
        }
        return;
      }
      busy = true;
      // One turn of the event loop first: a `drop` sent while the last file ran is seen before this one begins.
      setImmediate(() => {
        const file = queue.shift();
        if (file === undefined) {
          busy = false;
          return next();
        }
        post(file.port, { kind: 'started' });
        void runFileOnPort(file.task, file.port).finally(() => {
          busy = false;
          next();
        });
      });
    };
    control.on('message', (msg: ControlMessage) => {
      if (msg.kind === 'file') {
        queue.push(msg);
        next();
      } else {
        const i = queue.findIndex((q) => q.id === msg.id);
        if (i < 0) return; // already begun: the main thread has its `started`
        const [dropped] = queue.splice(i, 1);
        post(dropped.port, { kind: 'dropped' });
        dropped.port.close();
      }
    });
    control.once('close', () => {
      ending = true;
      next();
    });
  });
}

/** Runs one file; its events and host calls go over `port`, which is closed after `file_done`. */
async function runFileOnPort(task: FileTask, port: MessagePort): Promise<void> {
  const host = new PortHost(port);
  let done: FileLifecycle;
  try {
    const { outcome, events } = await runLuaFileHeld(task, (msg) => port.postMessage(msg), { host });
    done = { kind: 'file_done', outcome, events };
  } catch (e) {
    const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
    done = { kind: 'file_done', outcome: { status: 'error', passed: 0, failed: 0, skipped: 0, error: { message: `internal error in the Provium worker: ${message}` }, log: [] }, events: [] };
  } finally {
    host.detach();
  }
  port.postMessage(done);
  port.close();
}
