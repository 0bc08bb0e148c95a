/** Small helpers of the image suites: condition polling and a minimal QMP client. */
import { type Socket, connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** Polls `condition` every 50 ms until it is truthy; throws naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

/** QEMU Machine Protocol over a unix socket: commands in, `return`/`error` out, events skipped. */
export class Qmp {
  private buffered = '';
  private waiting: ((line: Record<string, unknown>) => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const message = JSON.parse(this.buffered.slice(0, nl)) as Record<string, unknown>;
        this.buffered = this.buffered.slice(nl + 1);
        if (!('event' in message)) this.waiting.shift()?.(message);
      }
    });
  }

  static async connect(path: string): Promise<Qmp> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const qmp = new Qmp(socket);
    await qmp.next(); // greeting
    await qmp.command('qmp_capabilities');
    return qmp;
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async command(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next();
    this.socket.write(`${JSON.stringify({ execute, arguments: args })}\n`);
    const message = await reply;
    if ('error' in message) throw new Error(`QMP ${execute}: ${JSON.stringify(message.error)}`);
    return message.return;
  }
}
