/**
 * "Run this test" / "run this file": runs `provium test <file> [--filter
 * <name>] --json` (the project's own CLI, never the code itself inside the
 * server) and turns each failure into a diagnostic on the failing line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import type { FailureInfo, RunEvent } from '@provium/types';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import type { SourceDoc } from '../analysis/document.js';
import type { Client } from '../client.js';
import { toRange } from '../positions.js';
import { uriToPath, type Project } from '../project/workspace.js';
import { testsOf } from './symbols.js';

export const RUN_TEST = 'provium.runTest';
export const RUN_FILE = 'provium.runFile';
export const COMMANDS = [RUN_TEST, RUN_FILE];

export interface RunOutcome {
  command: string[];
  exitCode: number | null;
  passed: number;
  failed: number;
  skipped: number;
  /** Set when the run could not start or the CLI reported a usage/setup error. */
  error?: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `provium` from the project's node_modules/.bin (or any parent's), else from PATH. */
export function findCli(dir: string, env = process.env): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', '.bin', 'provium');
    if (executable(candidate)) return candidate;
    if (dirname(d) === d) break;
  }
  for (const p of (env.PATH ?? '').split(delimiter)) {
    if (p && executable(join(p, 'provium'))) return join(p, 'provium');
  }
  return undefined;
}

export class TestRunner {
  private running = new Set<ChildProcess>();
  /** uri -> test name ('' for file-level errors) -> diagnostics of the last run. */
  private results = new Map<string, Map<string, Diagnostic[]>>();

  constructor(
    private readonly client: Client,
    private readonly changed: (uri: string) => void,
    private readonly cliPath?: string,
  ) {}

  diagnosticsFor(uri: string): Diagnostic[] {
    return [...(this.results.get(uri)?.values() ?? [])].flat();
  }

  async run(project: Project, doc: SourceDoc, test?: string): Promise<RunOutcome> {
    const file = relative(project.dir, uriToPath(doc.uri));
    const args = ['test', file, ...(test !== undefined ? ['--filter', test] : []), '--json'];
    const cli = this.cliPath ?? findCli(project.dir);
    if (!cli) {
      const error = `cannot run tests: no provium command found in ${join(project.dir, 'node_modules/.bin')} (or a parent's) nor on PATH: install provium in the project (npm install --save-dev provium) or set initializationOptions.cliPath`;
      this.client.showMessage('error', error);
      return { command: ['provium', ...args], exitCode: null, passed: 0, failed: 0, skipped: 0, error };
    }
    const events = await this.spawnCli(cli, args, project.dir);
    const outcome: RunOutcome = { command: [cli, ...args], exitCode: events.exitCode, passed: 0, failed: 0, skipped: 0, error: events.error };
    const byTest = test === undefined ? new Map<string, Diagnostic[]>() : (this.results.get(doc.uri) ?? new Map<string, Diagnostic[]>());
    byTest.delete('');
    for (const e of events.events) {
      if (e.event === 'test_started') byTest.set(e.test, []);
      else if (e.event === 'test_passed') outcome.passed++;
      else if (e.event === 'test_skipped') outcome.skipped++;
      else if (e.event === 'test_failed') {
        outcome.failed++;
        byTest.set(e.test, [this.failureDiagnostic(project, doc, e.test, e.error)]);
      } else if (e.event === 'file_completed' && e.error) byTest.set('', [this.failureDiagnostic(project, doc, undefined, e.error)]);
    }
    this.results.set(doc.uri, byTest);
    this.changed(doc.uri);
    if (outcome.exitCode === 2 || outcome.error) {
      outcome.error ??= `provium test failed to run (exit status 2): ${events.stderr.trim().split('\n').slice(-3).join(' ')}`;
      this.client.showMessage('error', outcome.error);
    } else {
      this.client.showMessage(outcome.failed ? 'warning' : 'info', `provium test ${file}${test !== undefined ? ` --filter ${JSON.stringify(test)}` : ''}: ${outcome.passed} passed, ${outcome.failed} failed, ${outcome.skipped} skipped`);
    }
    return outcome;
  }

  /** A diagnostic on the failing line of this file, else on the test's `test(` line. */
  private failureDiagnostic(project: Project, doc: SourceDoc, test: string | undefined, error: FailureInfo): Diagnostic {
    const here = uriToPath(doc.uri);
    let line: number | undefined;
    let elsewhere = '';
    if (error.location) {
      if (resolve(project.dir, error.location.file) === here) line = error.location.line - 1;
      else elsewhere = ` (at ${error.location.file}:${error.location.line})`;
    }
    if (line === undefined && test !== undefined) {
      const decl = testsOf(project, doc).find((t) => t.name === test);
      if (decl) line = doc.lines.lineOf(decl.range[0]);
    }
    line = Math.min(Math.max(0, line ?? 0), doc.lines.lineCount - 1);
    const start = doc.lines.lineStart(line);
    const lineText = doc.text.slice(start).split('\n')[0];
    const indent = lineText.length - lineText.trimStart().length;
    return {
      range: toRange(doc, start + indent, start + lineText.trimEnd().length),
      severity: DiagnosticSeverity.Error,
      source: 'provium test',
      message: `${test !== undefined ? `test "${test}" failed` : 'file failed'}: ${error.message}${elsewhere}`,
    };
  }

  private spawnCli(cli: string, args: string[], cwd: string): Promise<{ events: RunEvent[]; exitCode: number | null; stderr: string; error?: string }> {
    return new Promise((done) => {
      const child = spawn(cli, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      this.running.add(child);
      const events: RunEvent[] = [];
      let out = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        let nl;
        while ((nl = out.indexOf('\n')) >= 0) {
          const line = out.slice(0, nl).trim();
          out = out.slice(nl + 1);
          if (!line.startsWith('{')) continue;
          try {
            events.push(JSON.parse(line) as RunEvent);
          } catch {
            // not an event line
          }
        }
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', (e) => {
        this.running.delete(child);
        done({ events, exitCode: null, stderr, error: `cannot start ${cli}: ${e.message}` });
      });
      child.on('close', (code) => {
        this.running.delete(child);
        done({ events, exitCode: code, stderr });
      });
    });
  }

  /** Stops runs still going (server shutdown). */
  dispose(): void {
    for (const c of this.running) c.kill('SIGTERM');
    this.running.clear();
  }
}
