/** `lab:include({...})`: a list of members, included all or none. */
import type { BridgeHandle, VmHandle } from './handles.js';
import type { Lab } from './lab.js';

/**
 * Includes every member in list order. The list is checked whole first: when
 * one cannot be included (a name taken, a cycle), the lab's membership is put
 * back as it was and the error names that element's index.
 */
export function includeList(lab: Lab, members: (VmHandle | BridgeHandle | Lab)[]): void {
  const saved = { vms: new Map(lab.vms), bridges: new Map(lab.bridges), labs: new Map(lab.labs) };
  members.forEach((member, i) => {
    try {
      lab.include(member);
    } catch (e) {
      for (const key of ['vms', 'bridges', 'labs'] as const) {
        const map = lab[key] as Map<string, unknown>;
        map.clear();
        for (const [k, v] of saved[key]) map.set(k, v);
      }
      throw new Error(`lab:include(): element [${i + 1}] of the list: ${(e as Error).message.replace(/^lab:include\(\): /, '')}; nothing in the list was included`);
    }
  });
}
