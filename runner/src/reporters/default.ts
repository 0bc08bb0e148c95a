/**
 * The human reporter: one line per file, expanded failures, a live progress
 * line on a TTY, and a summary whose last line is `N passed, N failed, N skipped`.
 */
import pc from 'picocolors';
import type { FailureInfo, FileCompleted, RunCompleted, RunEvent, TestFailed } from '@provium/types';
import type { Reporter } from './reporter.js';

export interface DefaultReporterOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  verbose: boolean;
  quiet: boolean;
  color: boolean;
  /** The live line of running files on a terminal (off: `--no-progress`; a merged report has none). */
  progress: boolean;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

export class DefaultReporter implements Reporter {
  private readonly c: ReturnType<typeof pc.createColors>;
  private total = 0;
  private finished = 0;
  private readonly running = new Set<string>();
  /** Test-level lines of each file, printed with the file's line. */
  private readonly pending = new Map<string, string[]>();
  private progressShown = false;
  private cancelled = 0;
  private empty = 0;

  constructor(private readonly opts: DefaultReporterOptions) {
    this.c = pc.createColors(opts.color);
  }

  onRunStart(files: number): void {
    this.total = files;
  }

  onEvent(e: RunEvent): void {
    switch (e.event) {
      case 'file_started':
        this.running.add(e.file);
        this.pending.set(e.file, []);
        break;
      case 'test_passed':
        if (this.opts.verbose) this.lines(e.file).push(`  ${this.c.green('✓')} ${e.test} ${this.c.dim(`(${e.duration_ms}ms)`)}`);
        break;
      case 'test_skipped':
        if (this.opts.verbose) this.lines(e.file).push(`  ${this.c.yellow('-')} ${e.test} ${this.c.dim(`skipped: ${e.reason}`)}`);
        break;
      case 'test_failed':
        this.lines(e.file).push(...this.failure(e));
        break;
      case 'vm_spawned':
        if (this.opts.verbose) this.lines(e.file).push(this.c.dim(`  vm ${e.vm} started (pid ${e.pid}, ${e.accel})`));
        break;
      case 'fixture_build_started':
        if (!this.opts.quiet) this.write(this.c.dim(`BUILD fixture ${e.fixture} (for ${e.for})`));
        break;
      case 'fixture_build_done':
        if (e.ok && !this.opts.quiet) this.write(this.c.dim(`BUILT fixture ${e.fixture} ${`(${secs(e.duration_ms)}, ${(e.bytes / 1024 / 1024).toFixed(1)} MB)`}`));
        if (!e.ok) this.write([`${this.c.red('BUILD FAILED')} fixture ${e.fixture} ${this.c.dim(`(${secs(e.duration_ms)})`)}`, ...(e.error ?? '').split('\n').map((l) => `    ${l}`), ...(e.log ?? []).map((l) => this.c.dim(`      ${l}`))].join('\n'));
        break;
      case 'fixture_build_waiting':
        if (this.opts.verbose) this.write(this.c.dim(`WAIT fixture ${e.fixture} (${e.for}): ${e.reason}`));
        break;
      case 'fixture_cache_hit':
        if (this.opts.verbose) this.write(this.c.dim(`CACHED fixture ${e.fixture} (${e.for})`));
        break;
      case 'fixture_remote_hit':
        if (!this.opts.quiet) this.write(this.c.dim(`FETCHED fixture ${e.fixture} from the remote cache (${secs(e.duration_ms)}, ${(e.bytes / 1024 / 1024).toFixed(1)} MB)`));
        break;
      case 'fixture_remote_upload':
        if (e.ok && this.opts.verbose) this.write(this.c.dim(`UPLOADED fixture ${e.fixture} to the remote cache (${secs(e.duration_ms)}, ${(e.bytes / 1024 / 1024).toFixed(1)} MB)`));
        break;
      case 'file_completed':
        this.running.delete(e.file);
        this.finished++;
        this.fileDone(e);
        break;
      case 'run_completed':
        this.summary(e);
        break;
      case 'no_files':
        this.write(`no *.test.lua files found (looked under ${e.paths.join(', ')})`);
        break;
    }
    this.progress();
  }

  close(): void {
    this.clearProgress();
  }

  private lines(file: string): string[] {
    let l = this.pending.get(file);
    if (!l) this.pending.set(file, (l = []));
    return l;
  }

  private failure(e: TestFailed): string[] {
    const out = [`  ${this.c.red('✗')} ${e.test}`, ...this.failureBody(e.error, '      ')];
    if (e.log.length) out.push(this.c.dim('      log:'), ...e.log.map((l) => this.c.dim(`        ${l}`)));
    for (const [name, p] of Object.entries(e.artifacts ?? {})) out.push(this.c.dim(`      ${name}: ${p}`));
    return out;
  }

  private failureBody(err: FailureInfo, indent: string): string[] {
    const out = err.message.split('\n').map((l) => `${indent}${l}`);
    if (err.location) out.push(this.c.cyan(`${indent}at ${err.location.file}:${err.location.line}`));
    if (err.traceback) out.push(...err.traceback.split('\n').map((l) => this.c.dim(`${indent}${l}`)));
    return out;
  }

  private fileDone(e: FileCompleted): void {
    const label = {
      passed: this.c.green('PASS'), failed: this.c.red('FAIL'), timed_out: this.c.red('TIMEOUT'), error: this.c.red('ERROR'),
      skipped: this.c.yellow('SKIP'), empty: this.c.dim('EMPTY'), cancelled: this.c.yellow('CANCELLED'),
    }[e.status];
    if (e.status === 'cancelled') this.cancelled++;
    // A file none of whose tests was selected (--filter, --tag...) is noise in the report: counted, listed only with -v.
    if (e.status === 'empty') this.empty++;
    if (e.status === 'empty' && !this.opts.verbose) return;
    const bad = e.status === 'failed' || e.status === 'timed_out' || e.status === 'error';
    const lines = this.pending.get(e.file) ?? [];
    this.pending.delete(e.file);
    if (this.opts.quiet && !bad) return;
    const counts = [`${e.passed} passed`, e.failed ? `${e.failed} failed` : '', e.skipped ? `${e.skipped} skipped` : ''].filter(Boolean).join(', ');
    const out = [`${label} ${e.file} ${this.c.dim(`(${counts}, ${secs(e.duration_ms)})`)}`, ...lines];
    if (e.error) out.push(...this.failureBody(e.error, '    '));
    if (bad && e.log.length) out.push(this.c.dim('    output:'), ...e.log.map((l) => this.c.dim(`      ${l}`)));
    this.write(out.join('\n'));
  }

  private summary(e: RunCompleted): void {
    const passed = e.files - e.failed_files - this.cancelled - this.empty;
    const empty = this.empty ? `, ${this.empty} with no test to run` : '';
    const files = `Files: ${passed} passed, ${e.failed_files} failed${this.cancelled ? `, ${this.cancelled} cancelled` : ''}${empty}${e.not_run ? `, ${e.not_run} not run` : ''} (${secs(e.duration_ms)})`;
    this.write(['', files, `${e.passed} passed, ${e.failed} failed, ${e.skipped} skipped`].join('\n'));
  }

  private write(text: string): void {
    this.clearProgress();
    this.opts.out.write(text + '\n');
  }

  private progress(): void {
    if (!this.opts.progress || !this.opts.out.isTTY || this.running.size === 0) return this.clearProgress();
    const names = [...this.running].join(', ');
    const line = `[${this.finished}/${this.total}] running ${names}`.slice(0, (this.opts.out.columns ?? 80) - 1);
    this.opts.out.write(`\r\x1b[2K${this.c.dim(line)}`);
    this.progressShown = true;
  }

  private clearProgress(): void {
    if (!this.progressShown) return;
    this.opts.out.write('\r\x1b[2K');
    this.progressShown = false;
  }
}
