/**
 * The server's side of the fixed newstyle handshake: options until the
 * client picks the export (NBD_OPT_GO or NBD_OPT_EXPORT_NAME). Structured
 * replies, metadata contexts and TLS are refused as unsupported, so clients
 * fall back to simple replies.
 */
import type { Socket } from 'node:net';
import {
  type ByteReader, FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, IHAVEOPT, MAX_PAYLOAD, OPT_ABORT, OPT_EXPORT_NAME, OPT_GO, OPT_INFO, OPT_LIST,
  REP_ACK, REP_ERR_INVALID, REP_ERR_UNKNOWN, REP_ERR_UNSUP, REP_INFO, REP_SERVER, exportNameReply, infoBlockSize, infoExport, optionReply, serverGreeting,
} from './codec.js';

export interface ExportInfo {
  name: string;
  size: number;
  /** Transmission flags. */
  flags: number;
}

/** Option data beyond this is no client's business (names are at most 4096 bytes). */
const MAX_OPTION = 16 * 1024;

/** Runs the handshake; true when the client entered transmission, false when it went away or aborted. */
export async function negotiate(socket: Socket, reader: ByteReader, exp: ExportInfo): Promise<boolean> {
  socket.write(serverGreeting());
  const clientFlags = (await reader.take(4)).readUInt32BE(0);
  if ((clientFlags & ~(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)) !== 0) return false; // the spec says: drop the connection
  const zeroes = (clientFlags & FLAG_NO_ZEROES) === 0;
  // The empty name is the default export: this one.
  const known = (name: string): boolean => name === exp.name || name === '';
  for (;;) {
    const header = await reader.take(16);
    if (!header.subarray(0, 8).equals(IHAVEOPT)) return false;
    const option = header.readUInt32BE(8);
    const length = header.readUInt32BE(12);
    if (length > MAX_OPTION) return false;
    const data = await reader.take(length);
    const reply = (type: number, payload?: Buffer): void => {
      socket.write(optionReply(option, type, payload));
    };
    switch (option) {
      case OPT_EXPORT_NAME:
        // No way to answer "no such export" here but to hang up.
        if (!known(data.toString('utf8'))) return false;
        socket.write(exportNameReply(exp.size, exp.flags, zeroes));
        return true;
      case OPT_ABORT:
        reply(REP_ACK);
        return false;
      case OPT_LIST: {
        if (length !== 0) {
          reply(REP_ERR_INVALID, Buffer.from('NBD_OPT_LIST takes no data'));
          break;
        }
        const name = Buffer.from(exp.name);
        const entry = Buffer.alloc(4 + name.length);
        entry.writeUInt32BE(name.length, 0);
        name.copy(entry, 4);
        reply(REP_SERVER, entry);
        reply(REP_ACK);
        break;
      }
      case OPT_INFO:
      case OPT_GO: {
        const name = parseInfoRequest(data);
        if (name === undefined) {
          reply(REP_ERR_INVALID, Buffer.from('malformed NBD_OPT_INFO/NBD_OPT_GO data'));
          break;
        }
        if (!known(name)) {
          reply(REP_ERR_UNKNOWN, Buffer.from(`no export "${name}" here: this socket serves only "${exp.name}"`));
          break;
        }
        reply(REP_INFO, infoExport(exp.size, exp.flags));
        // Any alignment works; requests above 32 MiB are refused.
        reply(REP_INFO, infoBlockSize(1, 4096, MAX_PAYLOAD));
        reply(REP_ACK);
        if (option === OPT_GO) return true;
        break;
      }
      default:
        reply(REP_ERR_UNSUP);
    }
  }
}

/** The export name of NBD_OPT_INFO / NBD_OPT_GO data (name length, name, count of info requests, the requests), or undefined if malformed. */
function parseInfoRequest(data: Buffer): string | undefined {
  if (data.length < 6) return undefined;
  const nameLength = data.readUInt32BE(0);
  if (4 + nameLength + 2 > data.length) return undefined;
  const requests = data.readUInt16BE(4 + nameLength);
  if (data.length !== 4 + nameLength + 2 + 2 * requests) return undefined;
  // The requested info types need no look: the export's size and flags and its block sizes are always sent.
  return data.subarray(4, 4 + nameLength).toString('utf8');
}
