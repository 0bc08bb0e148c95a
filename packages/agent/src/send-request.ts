import type { AgentOp, AgentRequests, AgentResults } from '@provium/types/agent-protocol';

/** How process and file handles talk to the agent through their client. */
export type SendRequest = <O extends AgentOp>(op: O, args: AgentRequests[O]) => Promise<AgentResults[O]>;
