/**
 * A real NBD client for tests: one long qemu-io session on one connection,
 * fed commands on stdin (so a policy change is seen without a reconnect).
 * The image is opened with a write-back cache, as a guest's disk is: writes
 * are not followed by flushes or sent with FUA unless asked (`flush`, `write -f`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

const PROMPT = 'qemu-io> ';

export class QemuIo {
  private out = '';
  private err = '';
  private waiting: ((text: string) => void) | undefined;
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly uri: string) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      this.out += s;
      this.deliver();
    });
    child.stderr.on('data', (s: string) => {
      this.err += s;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Connects to `uri` (nbd+unix:///NAME?socket=PATH); rejects with qemu-io's message if it cannot. */
  static async open(uri: string): Promise<QemuIo> {
    const io = new QemuIo(spawn('qemu-io', ['-t', 'writeback', '-f', 'raw', uri]), uri);
    const first = new Promise<string>((resolve) => (io.waiting = resolve));
    const code = await Promise.race([first.then(() => undefined), io.exited]);
    if (code !== undefined) throw new Error(`qemu-io could not open ${uri} (exit ${code}): ${io.err.trim()}`);
    return io;
  }

  /** Runs one qemu-io command (e.g. `read -P 0xab 0 4k`) and returns what it printed. */
  async run(command: string): Promise<string> {
    if (this.waiting) throw new Error('QemuIo: one command at a time');
    const answer = new Promise<string>((resolve) => (this.waiting = resolve));
    this.child.stdin.write(`${command}\n`);
    return Promise.race([answer, this.exited.then((code) => `qemu-io exited (${code}): ${this.err}`)]);
  }

  /** Ends the session (qemu-io flushes on its way out) and resolves with its exit code. */
  close(): Promise<number | null> {
    this.child.stdin.end();
    return this.exited;
  }

  private deliver(): void {
    const at = this.out.indexOf(PROMPT);
    if (at < 0 || !this.waiting) return;
    const text = this.out.slice(0, at);
    this.out = this.out.slice(at + PROMPT.length);
    const w = this.waiting;
    this.waiting = undefined;
    w(text);
  }
}
