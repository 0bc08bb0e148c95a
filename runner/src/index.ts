/** The runner's public surface, for tools that embed it. */
export { main } from './cli/main.js';
export { loadConfig, type ResolvedConfig } from './config/load.js';
export { discover, type Discovery, type TestFile, type Fixture } from './list/discover.js';
export { runPlan, type RunPlan } from './orchestrator/run.js';
export { createWorkerPool, type FilePool } from './pool/pool.js';
