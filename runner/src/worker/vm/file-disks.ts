/**
 * The mediated disks of one test file: a client of the run's disk thread
 * (reached over a port the main thread connects, as the network's), made when
 * the file first boots a mediated disk and closed when the file ends. The disk
 * thread serves them while the file's Lua is busy.
 */
import { MessageChannel } from 'node:worker_threads';
import type { DiskClient } from '@provium/disk';
import type { HostServices } from '@provium/types';
import type { FileServices } from '../binding/registry.js';

export class FileDisks {
  private client: Promise<DiskClient> | undefined;

  constructor(
    private readonly host: HostServices,
    private readonly services: FileServices,
  ) {}

  get(): Promise<DiskClient> {
    this.client ??= (async () => {
      const { DiskClient } = await import('@provium/disk');
      const { port1, port2 } = new MessageChannel();
      await this.host.diskConnect(port2);
      const client = new DiskClient(port1);
      this.services.onFileEnd(() => client.close().catch(() => {}));
      return client;
    })();
    return this.client;
  }
}
