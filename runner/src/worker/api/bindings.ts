/**
 * The one registration table of the Lua API: every class and global of the
 * schema with its implementation. `Lua.ApiBindings` is generated from the
 * schema, so a class or method left out here, or one implemented with the
 * wrong argument types, does not compile.
 */
import type { Lua } from '@provium/types';
import { BindingRegistry } from '../binding/registry.js';
import './objects.js';
import { batchBinding } from './batch.js';
import { bridgeBinding } from './bridge.js';
import { captureBinding } from './capture.js';
import { clockBinding } from './clock.js';
import { consoleBinding } from './console.js';
import { diskBinding } from './disk.js';
import { fileBinding } from './file.js';
import { globalBindings } from './globals.js';
import { labSnapshotBinding } from './lab-snapshot.js';
import { labBinding } from './lab.js';
import { nicBinding } from './nic.js';
import { processBinding } from './process.js';
import { runResultBinding } from './run-result.js';
import { snapshotBinding } from './snapshot.js';
import { streamBinding } from './stream.js';
import { syscallHandleBinding } from './syscall-handle.js';
import { testContextBinding } from './test-context.js';
import { vmBinding } from './vm.js';
import { workerBinding } from './worker.js';

export const API_BINDINGS: Lua.ApiBindings = {
  classes: {
    TestContext: testContextBinding,
    Lab: labBinding,
    VM: vmBinding,
    Disk: diskBinding,
    Snapshot: snapshotBinding,
    LabSnapshot: labSnapshotBinding,
    RunResult: runResultBinding,
    Process: processBinding,
    File: fileBinding,
    Stream: streamBinding,
    Console: consoleBinding,
    Clock: clockBinding,
    Bridge: bridgeBinding,
    NIC: nicBinding,
    Batch: batchBinding,
    Capture: captureBinding,
    Worker: workerBinding,
    SyscallHandle: syscallHandleBinding,
  },
  globals: globalBindings,
};

/** The registry the runtime uses. */
export const defaultRegistry = BindingRegistry.from(API_BINDINGS);
