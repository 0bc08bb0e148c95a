import { describe, expect, it } from 'vitest';
import { KERNEL_CMDLINE_MAX, bootCmdline } from './boot-cmdline.js';

describe('bootCmdline', () => {
  it('appends hostname, base64-encoded files and extra words', () => {
    const line = bootCmdline('console=ttyS0 quiet', { hostname: 'web-1', files: [{ path: '/etc/a b', content: 'x=1\n', mode: 0o600 }], extra: ' debug ' });
    const words = line.split(' ');
    expect(words.slice(0, 3)).toEqual(['console=ttyS0', 'quiet', 'provium.hostname=web-1']);
    const [path, mode, content] = words[3].slice('provium.file='.length).split(',');
    expect(Buffer.from(path, 'base64').toString()).toBe('/etc/a b');
    expect(mode).toBe('600');
    expect(Buffer.from(content, 'base64').toString()).toBe('x=1\n');
    expect(words[4]).toBe('debug');
  });

  it('rejects bad hostnames, relative paths and command lines over the kernel limit', () => {
    expect(() => bootCmdline('x', { hostname: 'a b' })).toThrow('invalid guest hostname "a b"');
    expect(() => bootCmdline('x', { files: [{ path: 'etc/x', content: '' }] })).toThrow('boot file path "etc/x" must be an absolute guest path');
    expect(() => bootCmdline('x', { files: [{ path: '/big', content: 'y'.repeat(KERNEL_CMDLINE_MAX) }] })).toThrow(/kernel command line is \d+ bytes, the limit is 2047.*vm:write_file/);
  });
});
