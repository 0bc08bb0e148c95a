export { agentBinaryPath, ensureAgentBuilt } from './build.js';
export { AgentClient } from './client.js';
export type { AgentClientOptions, CommandOptions, DirEntry, ExecOptions, ExecResult, ExecTrace, FileStat } from './client-types.js';
export { AgentProcess, type ProcessExitInfo } from './process.js';
export { AgentFile } from './file.js';
export { AgentWorker, type WorkerOptions } from './worker.js';
export { AgentConnectionLostError, AgentError, AgentProtocolVersionError, AgentTimeoutError } from './errors.js';
export { decodeValue, encodeValue, type Value } from './codec.js';
export { encodeFrame, encodeMessageFrame, FrameDecoder } from './framing.js';
