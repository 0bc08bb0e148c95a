#!/usr/bin/env node
// `provium test` starts its worker threads before anything else, so that they load
// the Lua runtime while the CLI loads (see prestartWorkers in runner/src/pool/pool.ts).
const argv = process.argv.slice(2);
// The other commands (main.ts): a first word that is none of them runs tests, as `provium test` (D26).
const OTHER_COMMANDS = new Set(['list', 'report', 'prepare', 'doctor', 'shell', 'types', 'lsp', 'fixture', 'help']);
const runsTests = argv[0] === 'test' || (argv[0] === undefined ? true : !OTHER_COMMANDS.has(argv[0]));
if (runsTests && !argv.includes('--help') && !argv.includes('-h') && !argv.includes('--version')) {
  const [{ prestartWorkers, workerMaxHeapMbFromEnv }, { availableParallelism }, v8] = await Promise.all([import('../dist/pool/pool.js'), import('node:os'), import('node:v8')]);
  // TurboFan inlines less and starts later: it compiled fengari's big functions for about
  // as long as a run of a few hundred files took, on the cores the workers need; the code it
  // makes is as fast. With 15x the interrupt budget, a function is optimized once it has run
  // ~2 MB of bytecode: milliseconds into a long test, never for one that is over at once.
  // (The flags are known to V8 up to 13; an unknown one would print an error.)
  if (Number(process.versions.v8.split('.')[0]) <= 13) v8.setFlagsFromString('--max-inlined-bytecode-size-cumulative=230 --interrupt-budget=2000000');
  // -j N, -jN, --jobs N, --jobs=N; at most a few threads on speculation (a run of one file needs one).
  const j = argv.map((a, i) => (a === '-j' || a === '--jobs' ? argv[i + 1] : /^(?:-j|--jobs=)(\d+)$/.exec(a)?.[1])).findLast((v) => v !== undefined);
  const jobs = j !== undefined && /^[1-9]\d*$/.test(j) ? Number(j) : availableParallelism();
  let maxHeapMb = null;
  try {
    maxHeapMb = workerMaxHeapMbFromEnv();
  } catch {
    // a bad PROVIUM_WORKER_MAX_HEAP_MB: no threads ahead of time; `provium test` reports it
  }
  if (maxHeapMb !== null) prestartWorkers(Math.min(jobs, 4), { maxHeapMb });
}
const { main } = await import('../dist/cli/main.js');

main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`provium: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 2;
  },
);
