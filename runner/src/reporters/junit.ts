/** `--reporter junit --output FILE`: JUnit XML (a testsuite per file), written atomically at the end. */
import { renameSync, writeFileSync } from 'node:fs';
import { XMLBuilder } from 'fast-xml-parser';
import type { FileCompleted, RunCompleted, RunEvent, TestEvent } from '@provium/types';
import type { Reporter } from './reporter.js';

interface Suite {
  file: string;
  tests: TestEvent[];
  completed?: FileCompleted;
}

export class JunitReporter implements Reporter {
  private readonly suites = new Map<string, Suite>();
  private summary?: RunCompleted;

  constructor(private readonly output: string) {}

  onEvent(e: RunEvent): void {
    if (e.event === 'file_started') this.suites.set(e.file, { file: e.file, tests: [] });
    else if (e.event === 'test_passed' || e.event === 'test_failed' || e.event === 'test_skipped') this.suites.get(e.file)?.tests.push(e);
    else if (e.event === 'file_completed') this.suites.get(e.file)!.completed = e;
    else if (e.event === 'run_completed') this.summary = e;
  }

  close(): void {
    const testsuite = [...this.suites.values()].map((s) => this.suite(s));
    const doc = {
      '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
      testsuites: {
        '@_name': 'provium',
        '@_tests': testsuite.reduce((n, s) => n + s['@_tests'], 0),
        '@_failures': testsuite.reduce((n, s) => n + s['@_failures'], 0),
        '@_errors': testsuite.reduce((n, s) => n + s['@_errors'], 0),
        '@_skipped': testsuite.reduce((n, s) => n + s['@_skipped'], 0),
        '@_time': ((this.summary?.duration_ms ?? 0) / 1000).toFixed(3),
        testsuite,
      },
    };
    const xml = new XMLBuilder({ ignoreAttributes: false, format: true, suppressEmptyNode: true }).build(doc) as string;
    const tmp = `${this.output}.tmp-${process.pid}`;
    writeFileSync(tmp, xml);
    renameSync(tmp, this.output);
  }

  private suite(s: Suite) {
    const cases = s.tests.map((t) => {
      const base = { '@_name': t.test, '@_classname': s.file, '@_time': 'duration_ms' in t ? (t.duration_ms / 1000).toFixed(3) : '0' };
      if (t.event === 'test_failed') {
        const where = t.error.location ? `\nat ${t.error.location.file}:${t.error.location.line}` : '';
        const artifacts = Object.entries(t.artifacts ?? {}).map(([k, v]) => `${k}: ${v}`);
        return {
          ...base,
          failure: { '@_message': t.error.message.split('\n')[0], '#text': `${t.error.message}${where}\n${t.error.traceback ?? ''}` },
          ...(t.log.length || artifacts.length ? { 'system-out': [...t.log, ...artifacts].join('\n') } : {}),
        };
      }
      if (t.event === 'test_skipped') return { ...base, skipped: { '@_message': t.reason } };
      return { ...base, ...(t.event === 'test_passed' && t.log.length ? { 'system-out': t.log.join('\n') } : {}) };
    });
    const c = s.completed;
    // A file-level error (syntax error, timeout, worker death) is an <error> case of its own; a cancelled file a <skipped> one.
    const cancelled = c?.status === 'cancelled';
    if (c?.error) {
      const fileCase = { '@_name': '(file)', '@_classname': s.file, '@_time': (c.duration_ms / 1000).toFixed(3) };
      const detail = { '@_message': `${c.status}: ${c.error.message.split('\n')[0]}`, '#text': c.error.message };
      cases.push({ ...fileCase, ...(cancelled ? { skipped: detail } : { error: detail }) } as never);
    }
    return {
      '@_name': s.file,
      '@_tests': cases.length,
      '@_failures': s.tests.filter((t) => t.event === 'test_failed').length,
      '@_errors': c?.error && !cancelled ? 1 : 0,
      '@_skipped': s.tests.filter((t) => t.event === 'test_skipped').length + (c?.error && cancelled ? 1 : 0),
      '@_time': ((c?.duration_ms ?? 0) / 1000).toFixed(3),
      testcase: cases,
    };
  }
}
