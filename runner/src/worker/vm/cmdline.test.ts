import { describe, expect, it } from 'vitest';
import { kernelCmdline } from './cmdline.js';

describe('a VM\'s kernel command line (D24)', () => {
  it('is the profile\'s line and the hostname without options', () => {
    expect(kernelCmdline('console=ttyS0 panic=-1 quiet', 'a', {})).toBe('console=ttyS0 panic=-1 quiet provium.hostname=a');
  });

  it('kernel_cmdline replaces the profile\'s line; Provium\'s own words follow it and the append', () => {
    expect(kernelCmdline('console=ttyS0 panic=-1 quiet net.ifnames=0', 'web', { kernel_cmdline: ' loglevel=7  ', kernel_cmdline_append: 'x=1' })).toBe(
      'loglevel=7 x=1 console=ttyS0 panic=-1 no_timer_check provium.hostname=web',
    );
  });

  it('kernel_cmdline_append alone appends to the profile\'s line', () => {
    expect(kernelCmdline('console=ttyS0 quiet', 'a', { kernel_cmdline_append: 'debug' })).toBe('console=ttyS0 quiet debug provium.hostname=a');
  });

  it('adds the profile\'s TCG words after the append and before Provium\'s own, also when the line is replaced', () => {
    expect(kernelCmdline('console=ttyS0 quiet net.ifnames=0', 'a', { kernel_cmdline_append: 'debug' }, 'norandmaps')).toBe('console=ttyS0 quiet net.ifnames=0 debug norandmaps provium.hostname=a');
    expect(kernelCmdline('console=ttyS0 quiet', 'a', { kernel_cmdline: 'loglevel=7' }, 'norandmaps')).toBe('loglevel=7 norandmaps console=ttyS0 panic=-1 no_timer_check provium.hostname=a');
    expect(kernelCmdline('console=ttyS0 quiet', 'a', {}, undefined)).toBe('console=ttyS0 quiet provium.hostname=a');
  });

  it('keeps the injected agent\'s rdinit= of a profile with inject_agent, last, even when the line is replaced', () => {
    const line = 'console=ttyS0 root=/dev/vda rdinit=/provium/init';
    expect(kernelCmdline(line, 'a', {})).toBe('console=ttyS0 root=/dev/vda rdinit=/provium/init provium.hostname=a');
    expect(kernelCmdline(line, 'a', { kernel_cmdline: 'quiet' })).toBe('quiet console=ttyS0 panic=-1 no_timer_check rdinit=/provium/init provium.hostname=a');
  });
});
