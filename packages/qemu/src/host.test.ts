import { describe, expect, it } from 'vitest';
import { type AccelFacts, chooseAccel } from './host.js';

const facts = (over: Partial<AccelFacts>): AccelFacts => ({ kvmDevice: 'ok', hardwareVirt: true, pvm: false, ...over });

describe('chooseAccel', () => {
  it('takes KVM when /dev/kvm opens and the CPU has vmx/svm', () => {
    expect(chooseAccel(facts({}))).toEqual({ accel: 'kvm', reason: 'hardware KVM (/dev/kvm, vmx/svm)' });
  });

  it('falls back to TCG without a usable /dev/kvm, saying why', () => {
    expect(chooseAccel(facts({ kvmDevice: 'ENOENT' }))).toEqual({ accel: 'tcg', reason: 'no /dev/kvm' });
    expect(chooseAccel(facts({ kvmDevice: 'EACCES' }))).toEqual({ accel: 'tcg', reason: '/dev/kvm is not readable and writable by this user (EACCES)' });
  });

  it('does not take a paravirtual KVM (PVM): it boots only kernels built for it', () => {
    const pvm = chooseAccel(facts({ hardwareVirt: false, pvm: true }));
    expect(pvm.accel).toBe('tcg');
    expect(pvm.reason).toBe('/dev/kvm is there but the CPU has no vmx/svm: it is a paravirtual KVM (kvm_pvm), which boots only guest kernels built for PVM');
    expect(chooseAccel(facts({ hardwareVirt: false })).accel).toBe('tcg');
  });

  it('lets PROVIUM_ACCEL decide, and names a bad value', () => {
    expect(chooseAccel(facts({ override: 'tcg' }))).toEqual({ accel: 'tcg', reason: 'PROVIUM_ACCEL=tcg' });
    expect(chooseAccel(facts({ override: 'kvm', kvmDevice: 'ENOENT' }))).toEqual({ accel: 'kvm', reason: 'PROVIUM_ACCEL=kvm' });
    expect(() => chooseAccel(facts({ override: 'KVM' }))).toThrow('PROVIUM_ACCEL must be "kvm" or "tcg", got "KVM": unset it to let Provium choose');
  });
});
