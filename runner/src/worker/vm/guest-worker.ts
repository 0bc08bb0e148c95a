/** `vm:spawn_worker()`: a second agent process in the guest, with credentials of its own. */
import type { AgentWorker } from '@provium/agent';
import type { VmSession } from './session.js';

export class GuestWorker {
  /** join() or close() ran: the worker is gone for good. */
  private ended = false;

  constructor(
    readonly vm: VmSession,
    readonly agent: AgentWorker,
  ) {}

  get label(): string {
    return `${this.vm.label}: worker ${this.agent.id}`;
  }

  /**
   * The worker for a request, once the VM can answer. After join the request
   * still goes to the agent, whose error says the worker is gone (the
   * original's rule: every later call raises an agent error).
   */
  use(): AgentWorker {
    this.vm.agentFor();
    return this.agent;
  }

  async join(): Promise<number> {
    const agent = this.use();
    this.ended = true;
    return this.vm.guard(agent.join());
  }

  /** `worker:close()`: SIGTERM, then join. Never raises; does nothing the second time. */
  async close(): Promise<void> {
    // A paused guest cannot answer: the worker stays until the VM resumes or goes.
    if (this.ended || this.vm.state !== 'booted') return;
    this.ended = true;
    try {
      await this.agent.kill('term');
    } catch {
      // it died already: join still collects it
    }
    await this.agent.join().catch(() => {});
  }
}
