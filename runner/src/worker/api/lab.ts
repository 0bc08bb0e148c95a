/** `provium` and every lab: the binding of the schema's Lab class. */
import path from 'node:path';
import type { Lua } from '@provium/types';
import { Lab } from '../vm/lab.js';
import { includeList } from '../vm/lab-include.js';
import { resetBetweenTests, setResetBetweenTests } from '../vm/resets.js';
import { LabSnapshotHandle, forFixtureCache, freshTempPath } from '../vm/snapshots.js';
import { barrier } from './lab-barrier.js';
import { packField } from './lab-pack.js';
import { requireHostOf, snapshotPathArg } from './scope.js';

export const labBinding: Lua.LabBinding = {
  is: (v) => v instanceof Lab,
  receiver: 'lab',
  member: (lab, name) => lab.vms.get(name) ?? lab.bridges.get(name) ?? lab.labs.get(name),
  fields: {
    reset_between_tests: {
      get: (_lab, call) => resetBetweenTests.has(call.services),
      set: (lab, on, call) => setResetBetweenTests(lab, call.services, on),
    },
    timeout: {
      get: (_lab, call) => call.services.fileTimeoutSeconds,
      set: (_lab, seconds, call) => call.services.setFileTimeout(seconds),
    },
    pack: { rawGet: packField('pack') },
    unpack: { rawGet: packField('unpack') },
  },
  methods: {
    vm: async (lab, [name, profile, opts], call) => {
      if (profile === undefined) return lab.lookup(name);
      // An unknown profile fails here, at the line that names it, not at boot.
      await requireHostOf(call).prepareProfile(profile);
      return lab.create(name, profile, opts);
    },
    // bridge(name) looks the bridge up, or creates it (the user's own fixture example does `provium:bridge("lan")`).
    bridge: async (lab, [name], call) => (call.overload === 1 && lab.bridges.get(name)) || lab.createBridge(name),
    lab: (lab, [name]) => lab.subLab(name),
    include: (lab, [member]) => (Array.isArray(member) ? includeList(lab, member) : lab.include(member)),
    remove: (lab, [member]) => lab.remove(member),
    members: (lab) => lab.memberRecords(),
    name: (lab) => lab.name(),
    vm_names: (lab) => [...lab.vms.keys()].sort(),
    bridge_names: (lab) => [...lab.bridges.keys()].sort(),
    sub_lab_names: (lab) => [...lab.labs.keys()].sort(),
    barrier: { raw: barrier },
    boot: async (lab, _args, call) => {
      await lab.boot(call.signal);
      return lab;
    },
    shutdown: async (lab) => {
      await Promise.all(lab.allVms().map((v) => v.session.shutdown()));
    },
    pause: async (lab) => {
      await Promise.all(lab.allVms().filter((v) => v.session.state === 'booted').map((v) => v.session.pause()));
    },
    resume: async (lab) => {
      await Promise.all(lab.allVms().filter((v) => v.session.state === 'paused').map((v) => v.session.resume()));
    },
    snapshot: async (lab, [dir], call) => {
      const out = snapshotPathArg(dir, 'lab:snapshot()') ?? freshTempPath(call.services, 'lab', '');
      return lab.snapshot(out, forFixtureCache(call.services, out));
    },
    restore: async (lab, [snap], call) => {
      await lab.restore(snap instanceof LabSnapshotHandle ? snap.dir : path.resolve(snap), call.signal);
      return lab;
    },
    claim: async (lab, [opts]) => {
      if (opts.memory !== undefined && opts.memory_bytes !== undefined) throw new Error('give memory or memory_bytes, not both');
      return lab.claim({ memory: opts.memory ?? opts.memory_bytes, cpus: opts.cpus });
    },
    vm_fixture: async (lab, [name], call) => lab.vmFixture(name, call.signal),
    lab_fixture: async (lab, [name], call) => lab.labFixture(name, call.signal),
    depends_on_file: () => undefined,
  },
};
