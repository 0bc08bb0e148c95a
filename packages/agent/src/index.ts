export { agentBinaryPath, ensureAgentBuilt } from './build.js';
export { AgentClient } from './client.js';
export type { AgentClientOptions, CommandOptions, DirEntry, ExecOptions, ExecResult, ExecTrace, FileStat } from './client-types.js';
export { AgentProcess, type ProcessExitInfo } from './process.js';
export { AgentFile } from './file.js';
export { AgentConnectionLostError, AgentError, AgentProtocolVersionError, AgentTimeoutError } from './errors.js';
export { decodeValue, encodeValue, type Value } from './codec.js';
export { encodeFrame, encodeMessageFrame, FrameDecoder } from './framing.js';
export { ioctl, readMem, syscall, syscallAsync, type AsyncSyscall, type IoctlOutcome, type SyscallCall, type SyscallOutcome } from './syscalls.js';
