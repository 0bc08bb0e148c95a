/** Errors of the agent client. Every message says what failed and, where it can, what to do. */
import type { AgentErrorBody } from '@provium/types/agent-protocol';

/** The agent answered a request with an error (errno name, text, path). */
export class AgentError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly op: string;
  readonly path?: string;
  readonly path2?: string;

  constructor(op: string, body: AgentErrorBody) {
    const paths = body.path === undefined ? '' : ` ${JSON.stringify(body.path)}${body.path2 === undefined ? '' : ` -> ${JSON.stringify(body.path2)}`}`;
    // the agent prefixes protocol-misuse messages with the op already
    const text = body.message.startsWith(`${op}: `) ? body.message.slice(op.length + 2) : body.message;
    super(`agent ${op}${paths}: ${body.code} (${text})`);
    this.name = 'AgentError';
    this.code = body.code;
    this.errno = body.errno;
    this.op = op;
    this.path = body.path;
    this.path2 = body.path2;
  }
}

/** The connection dropped (or was closed) while a request or the handshake was pending. */
export class AgentConnectionLostError extends Error {
  constructor(detail: string) {
    super(`agent connection lost ${detail}`);
    this.name = 'AgentConnectionLostError';
  }
}

/** No answer in time: a request, or the handshake (agent not running / not reachable). */
export class AgentTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentTimeoutError';
  }
}

/** The agent speaks another protocol version than this host. */
export class AgentProtocolVersionError extends Error {
  readonly agentVersion: number;
  readonly hostVersion: number;

  constructor(agentVersion: number, hostVersion: number) {
    super(`agent protocol version ${agentVersion}, host expects ${hostVersion}: rebuild the image with \`provium prepare\``);
    this.name = 'AgentProtocolVersionError';
    this.agentVersion = agentVersion;
    this.hostVersion = hostVersion;
  }
}
