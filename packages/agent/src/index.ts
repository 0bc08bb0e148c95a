export { agentBinaryPath, ensureAgentBuilt } from './build.js';
export {
  AgentClient,
  type AgentClientOptions,
  type CommandOptions,
  type DirEntry,
  type ExecOptions,
  type ExecResult,
  type FileStat,
} from './client.js';
export { AgentProcess, type ProcessExitInfo } from './process.js';
export { AgentFile } from './file.js';
export { AgentConnectionLostError, AgentError, AgentProtocolVersionError, AgentTimeoutError } from './errors.js';
export { decodeValue, encodeValue, type Value } from './codec.js';
export { encodeFrame, FrameDecoder } from './framing.js';
