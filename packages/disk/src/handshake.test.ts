// Protocol corners a guest's QEMU never shows: a raw client on the socket, and qemu-nbd's export listing.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteReader, CMD_DISC, CMD_READ, CMD_WRITE, EINVAL, ENOSPC, IHAVEOPT, OPT_ABORT, OPT_EXPORT_NAME, OPT_GO, REP_ACK, REP_ERR_UNSUP, REQUEST_HEADER } from './codec.js';
import { DiskServer } from './server.js';

const SIZE = 1024 * 1024;
let dir: string;
let disk: DiskServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pvdisk-hs-'));
  const image = join(dir, 'd.img');
  writeFileSync(image, 'first bytes');
  truncateSync(image, SIZE);
  disk = await DiskServer.start({ image, socketPath: join(dir, 'd.sock'), name: 'd0' });
});
afterAll(async () => {
  await disk.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A client speaking the wire format by hand. */
class Raw {
  readonly reader: ByteReader;
  readonly closed: Promise<void>;
  private constructor(readonly socket: Socket) {
    this.reader = new ByteReader(socket);
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }
  static async connect(path: string, clientFlags: number): Promise<{ raw: Raw; greeting: Buffer }> {
    const socket = connect(path);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const raw = new Raw(socket);
    const greeting = await raw.reader.take(18);
    const flags = Buffer.alloc(4);
    flags.writeUInt32BE(clientFlags);
    socket.write(flags);
    return { raw, greeting };
  }
  option(option: number, data: Buffer = Buffer.alloc(0)): void {
    const h = Buffer.alloc(16);
    IHAVEOPT.copy(h, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(data.length, 12);
    this.socket.write(Buffer.concat([h, data]));
  }
  /** Reads one option reply: [option, type, data]. */
  async optionReply(): Promise<[number, number, Buffer]> {
    const h = await this.reader.take(20);
    return [h.readUInt32BE(8), h.readUInt32BE(12), await this.reader.take(h.readUInt32BE(16))];
  }
  request(type: number, offset: number, length: number, flags = 0, payload?: Buffer): void {
    const b = Buffer.alloc(REQUEST_HEADER);
    b.writeUInt32BE(0x25609513, 0);
    b.writeUInt16BE(flags, 4);
    b.writeUInt16BE(type, 6);
    b.writeUInt32BE(type * 1000 + 7, 12); // handle
    b.writeBigUInt64BE(BigInt(offset), 16);
    b.writeUInt32BE(length, 24);
    this.socket.write(payload ? Buffer.concat([b, payload]) : b);
  }
  /** Reads one simple reply: [error, handle low word]. */
  async reply(): Promise<[number, number]> {
    const b = await this.reader.take(16);
    return [b.readUInt32BE(4), b.readUInt32BE(12)];
  }
}

describe('NBD handshake and transmission corners', () => {
  it('lists its export with size, flags and block sizes (qemu-nbd -L)', async () => {
    const { stdout } = await promisify(execFile)('qemu-nbd', ['-L', '-k', disk.socketPath]);
    expect(stdout).toContain("export: 'd0'");
    expect(stdout).toContain(`size:  ${SIZE}`);
    expect(stdout).toMatch(/flags: 0x6d \( flush fua trim zeroes \)/);
    expect(stdout).toMatch(/min block: 1\s+opt block: 4096\s+max block: 33554432/);
  });

  it('enters transmission by NBD_OPT_EXPORT_NAME (with the 124 zeroes) and answers bad requests without hanging up', async () => {
    const { raw, greeting } = await Raw.connect(disk.socketPath, 1);
    expect(greeting.toString('latin1', 0, 16)).toBe('NBDMAGICIHAVEOPT');
    expect(greeting.readUInt16BE(16)).toBe(3); // fixed newstyle, no zeroes on offer
    raw.option(OPT_EXPORT_NAME, Buffer.from('d0'));
    const info = await raw.reader.take(10 + 124);
    expect([Number(info.readBigUInt64BE(0)), info.readUInt16BE(8)]).toEqual([SIZE, 0x6d]);
    expect(info.subarray(10).equals(Buffer.alloc(124))).toBe(true);

    raw.request(CMD_READ, 0, 11);
    expect(await raw.reply()).toEqual([0, CMD_READ * 1000 + 7]);
    expect((await raw.reader.take(11)).toString()).toBe('first bytes');
    raw.request(CMD_READ, SIZE - 4, 8);
    expect((await raw.reply())[0]).toBe(EINVAL);
    raw.request(CMD_WRITE, SIZE - 2, 4, 0, Buffer.from('xxxx'));
    expect((await raw.reply())[0]).toBe(ENOSPC);
    raw.request(9, 0, 0);
    expect((await raw.reply())[0]).toBe(EINVAL);
    raw.request(CMD_READ, 0, 4, 1 << 2); // DF: only with structured replies, never offered
    expect((await raw.reply())[0]).toBe(EINVAL);
    raw.request(CMD_READ, 0, 5);
    expect(await raw.reply()).toEqual([0, 7]);
    expect((await raw.reader.take(5)).toString()).toBe('first');
    raw.request(CMD_DISC, 0, 0);
    await raw.closed;
  });

  it('refuses options it does not know and goes on; hangs up on unknown client flags, an unknown export by name, and ABORT', async () => {
    const go = Buffer.alloc(4 + 2 + 2);
    go.writeUInt32BE(2, 0);
    Buffer.from('d0').copy(go, 4);
    const { raw } = await Raw.connect(disk.socketPath, 3);
    raw.option(8); // structured replies
    expect(await raw.optionReply()).toEqual([8, REP_ERR_UNSUP, Buffer.alloc(0)]);
    raw.option(OPT_GO, go);
    const replies: number[] = [];
    for (let r = await raw.optionReply(); ; r = await raw.optionReply()) {
      replies.push(r[1]);
      if (r[1] === REP_ACK) break;
    }
    expect(replies).toEqual([3, 3, REP_ACK]); // two NBD_REP_INFO, then the ACK
    raw.request(CMD_DISC, 0, 0);
    await raw.closed;

    const odd = await Raw.connect(disk.socketPath, 1 << 5);
    await odd.raw.closed;
    const unknown = await Raw.connect(disk.socketPath, 3);
    unknown.raw.option(OPT_EXPORT_NAME, Buffer.from('other'));
    await unknown.raw.closed;
    const abort = await Raw.connect(disk.socketPath, 3);
    abort.raw.option(OPT_ABORT);
    expect((await abort.raw.optionReply())[1]).toBe(REP_ACK);
    await abort.raw.closed;
    // The server's side of each connection closes too (a moment after the client sees it).
    while (disk.stats().connections > 0) await new Promise((r) => setTimeout(r, 5));
  });
});
