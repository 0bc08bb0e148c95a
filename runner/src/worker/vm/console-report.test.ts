import { describe, expect, it } from 'vitest';
import { consoleReport } from './agent-connect.js';

describe('consoleReport', () => {
  it('quotes the last console lines as QEMU exit errors do', () => {
    expect(consoleReport(['Run /init as init process', 'provium-init: modules loaded'], 'tcg')).toBe(
      ' — last console lines:\n  | Run /init as init process\n  | provium-init: modules loaded',
    );
  });

  it('says what an empty console means and names the accelerator', () => {
    for (const tail of [[], ['', '  ']]) {
      expect(consoleReport(tail, 'kvm')).toBe(
        ' — the console is empty: the guest printed nothing since QEMU started (accelerator kvm; `provium doctor` says why it was chosen, PROVIUM_ACCEL=tcg rules KVM out)',
      );
    }
  });
});
