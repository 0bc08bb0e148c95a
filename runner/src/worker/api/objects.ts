/**
 * Fills in the blanks of the generated binding interfaces (types/src/api/
 * binding-types.ts): the JS object behind each schema class, and the
 * runtime's call context, Lua state and file services. With these, every
 * `Lua.<Class>Binding` in api/ is checked against the schema at compile time.
 */
import type { CallContext, FileServices } from '../binding/registry.js';
import type { TestRun } from '../framework/file-run.js';
import type { LuaState } from '../lua/api.js';
import type { BatchBuilder } from '../vm/batch.js';
import type { PacketCapture } from '../vm/capture.js';
import type { BridgeHandle, ClockHandle, ConsoleHandle, DiskRef, FileHandle, GraphNicHandle, NicHandle, VmHandle } from '../vm/handles.js';
import type { Lab } from '../vm/lab.js';
import type { GuestWorker } from '../vm/guest-worker.js';
import type { ProcessHandle } from '../vm/process.js';
import type { RunResult } from '../vm/results.js';
import type { LabSnapshotHandle, SnapshotHandle } from '../vm/snapshots.js';
import type { Stream } from '../vm/stream.js';
import type { SyscallHandle } from '../vm/syscall.js';

declare module '@provium/types' {
  interface ApiObjects {
    TestContext: TestRun;
    Lab: Lab;
    VM: VmHandle;
    Disk: DiskRef;
    Snapshot: SnapshotHandle;
    LabSnapshot: LabSnapshotHandle;
    RunResult: RunResult;
    Process: ProcessHandle;
    File: FileHandle;
    Stream: Stream;
    Console: ConsoleHandle;
    Clock: ClockHandle;
    Bridge: BridgeHandle;
    NIC: NicHandle | GraphNicHandle;
    Batch: BatchBuilder;
    Capture: PacketCapture;
    Worker: GuestWorker;
    SyscallHandle: SyscallHandle;
  }
  interface BindingRuntime {
    call: CallContext;
    lua: LuaState;
    services: FileServices;
  }
}
