/** Locating and (re)building the static agent binary with the package's Makefile. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/agent/ (this module lives in src/ or dist/). */
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Where the built agent is: packages/agent/dist/provium-agent. */
export function agentBinaryPath(): string {
  return join(packageDir, 'dist', 'provium-agent');
}

let building: Promise<string> | undefined;

/**
 * Builds the agent when it is missing or older than its C sources (make
 * decides); returns agentBinaryPath(). Concurrent callers share one build;
 * concurrent processes are safe too (the Makefile renames into place).
 */
export function ensureAgentBuilt(): Promise<string> {
  building ??= runMake().catch((err: Error) => {
    building = undefined; // let a later call retry after the machine is fixed
    throw err;
  });
  return building;
}

function runMake(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('make', ['-s', '-C', packageDir], { maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) {
        resolve(agentBinaryPath());
        return;
      }
      const detail = String(stderr).trim() || err.message;
      reject(
        new Error(
          `building the provium agent failed (make -C ${packageDir}):\n${detail}\n` +
            'The agent is a static C binary: it needs gcc, make and glibc\'s static libraries ' +
            '(Debian: apt-get install gcc make libc6-dev, or run scripts/setup.sh).',
        ),
      );
    });
  });
}
