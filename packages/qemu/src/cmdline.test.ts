import { describe, expect, it } from 'vitest';
import { AGENT_PORT_NAME, MACHINE_TYPE, buildQemuArgs, type LaunchSpec } from './cmdline.js';

const spec: LaunchSpec = {
  name: 'a',
  accel: 'tcg',
  memoryMiB: 256,
  cpus: 2,
  ram: { path: '/dev/shm/r,am', share: true },
  sockets: { qmp: '/run/q.sock', console: '/run/c.sock', agent: '/run/a,g.sock' },
  incoming: false,
  startPaused: false,
  extraArgs: [],
};

/** The value that follows each occurrence of `flag`. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('buildQemuArgs', () => {
  it('pins the machine, sizes RAM in the file backend, wires QMP, console and agent', () => {
    const args = buildQemuArgs(spec);
    expect(values(args, '-machine')).toEqual([`${MACHINE_TYPE},memory-backend=mem`]);
    expect(values(args, '-m')).toEqual(['256M']);
    expect(values(args, '-smp')).toEqual(['2']);
    expect(values(args, '-object')).toEqual(['memory-backend-file,id=mem,size=256M,mem-path=/dev/shm/r,,am,share=on']);
    expect(values(buildQemuArgs({ ...spec, ram: { ...spec.ram, prealloc: true } }), '-object'))
      .toEqual(['memory-backend-file,id=mem,size=256M,mem-path=/dev/shm/r,,am,share=on,prealloc=on']);
    expect(values(args, '-chardev')).toEqual([
      'socket,id=qmp,path=/run/q.sock,server=off',
      'socket,id=console,path=/run/c.sock,server=off',
      'socket,id=agent,path=/run/a,,g.sock,server=on,wait=off',
    ]);
    expect(values(args, '-device')).toContain(`virtserialport,id=agent-port,bus=vser0.0,chardev=agent,name=${AGENT_PORT_NAME}`);
    expect(args).not.toContain('-kernel');
    expect(args).not.toContain('-S');
    expect(args).not.toContain('-incoming');
  });

  it('follows the accelerator, the kernel, the start mode and appends extra args last', () => {
    const args = buildQemuArgs({
      ...spec,
      accel: 'kvm',
      ram: { path: '/t/ram', share: false },
      kernel: { path: '/k', initrd: '/i', append: 'console=ttyS0 a=b,c' },
      incoming: true,
      startPaused: true,
      extraArgs: ['-netdev', 'user,id=n0'],
    });
    expect(values(args, '-accel')).toEqual(['kvm']);
    expect(values(args, '-cpu')).toEqual(['host']);
    expect(values(args, '-object')[0]).toMatch(/share=off$/);
    expect(values(args, '-append')).toEqual(['console=ttyS0 a=b,c']); // its own argv word: no escaping
    expect(values(args, '-incoming')).toEqual(['defer']);
    expect(args).toContain('-S');
    expect(args.slice(-2)).toEqual(['-netdev', 'user,id=n0']);
  });
});
