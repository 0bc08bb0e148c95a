/**
 * The tinypool worker module: runs one test file per task and streams its test
 * events over `port` (see run-file.ts). Imports nothing from the main thread's side.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FileOutcome, FileTask } from '@provium/types';
import { runLuaFile } from './run-file.js';
import { PortHost } from './vm/host-client.js';

export default async function runFileTask({ task, port }: { task: FileTask; port: MessagePort }): Promise<FileOutcome> {
  const host = new PortHost(port);
  try {
    return await runLuaFile(task, (msg) => port.postMessage(msg), { host });
  } finally {
    host.detach();
  }
}
