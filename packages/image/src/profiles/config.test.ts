import { describe, expect, it } from 'vitest';
import { parseProfiles } from './config.js';

const FILE = '/project/provium.toml';
const parse = (profiles: unknown) => parseProfiles({ file: FILE, toml: { profiles } });
const error = (profiles: unknown) => {
  try {
    parse(profiles);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected parseProfiles to throw');
};

describe('parseProfiles', () => {
  it('resolves paths against the directory of provium.toml and parses sizes', () => {
    const spec = parse({ tiny: { kernel: 'out/bzImage', initrd: '/abs/initrd.cpio', cmdline_file: 'cmdline.txt', memory: '512M', cpus: 2, inject_agent: true } }).get('tiny');
    expect(spec).toEqual({
      name: 'tiny',
      file: FILE,
      build: undefined,
      kernel: '/project/out/bzImage',
      initrd: '/abs/initrd.cpio',
      cmdline: undefined,
      cmdlineFile: '/project/cmdline.txt',
      memory: 512 * 1024 * 1024,
      cpus: 2,
      injectAgent: true,
    });
  });

  it('keeps build-relative paths for {out}', () => {
    const spec = parse({ built: { build: 'make O={out}', kernel: 'bzImage', initrd: 'initrd.gz', memory: 268435456 } }).get('built');
    expect(spec).toMatchObject({ build: 'make O={out}', kernel: 'bzImage', initrd: 'initrd.gz', memory: 268435456, injectAgent: false });
  });

  it('has no profiles without a [profiles] table', () => {
    expect(parseProfiles({ file: FILE, toml: { provium: { roots: ['tests'] } } }).size).toBe(0);
  });

  it('names the file, profile and key of every mistake', () => {
    expect(error({ p: { kernel: 'k', initrd: 'i', kernal: 'x' } })).toBe(
      `${FILE}: [profiles.p]: unknown key "kernal" (known keys: kernel, initrd, cmdline, cmdline_file, memory, cpus, inject_agent, build, disk)`,
    );
    expect(error({ p: { kernel: 3, initrd: 'i' } })).toBe(`${FILE}: [profiles.p]: kernel must be a non-empty string, got number 3`);
    expect(error({ p: { initrd: 'i' } })).toMatch(/^\/project\/provium.toml: \[profiles.p\]: kernel is required/);
    expect(error({ p: { kernel: 'k' } })).toMatch(/\[profiles.p\]: initrd is required/);
    expect(error({ p: { kernel: 'k', initrd: 'i', memory: '12 parsecs' } })).toMatch(/\[profiles.p\]: memory must be a size of at least 16M \(a number of bytes .*\), got the string "12 parsecs"$/);
    expect(error({ p: { kernel: 'k', initrd: 'i', memory: 1024 } })).toMatch(/memory must be a size of at least 16M .*, got number 1024$/);
    expect(error({ p: { kernel: 'k', initrd: 'i', cpus: 1.5 } })).toBe(`${FILE}: [profiles.p]: cpus must be an integer from 1 to 255, got number 1.5`);
    expect(error({ p: { kernel: 'k', initrd: 'i', inject_agent: 'yes' } })).toMatch(/inject_agent must be true or false, got the string "yes"/);
    expect(error({ p: { kernel: 'k', initrd: 'i', cmdline: 'a', cmdline_file: 'b' } })).toMatch(/set either cmdline or cmdline_file, not both/);
    expect(error({ p: { kernel: 'k', initrd: 'i', build: 'make' } })).toMatch(/build must mention \{out\}/);
    expect(error({ default: { kernel: 'k', initrd: 'i' } })).toMatch(/\[profiles.default\]: "default" is a built-in profile and cannot be redefined/);
    expect(error({ debian: { kernel: 'k', initrd: 'i' } })).toMatch(/\[profiles.debian\]: "debian" is a built-in profile and cannot be redefined/);
    expect(error({ 'bad name': { kernel: 'k', initrd: 'i' } })).toMatch(/\[profiles.bad name\]: invalid profile name/);
    expect(error({ p: 'kernel=k' })).toBe(`${FILE}: [profiles.p]: must be a table, got the string "kernel=k"`);
    expect(error(['p'])).toBe(`${FILE}: "profiles" must be a table of [profiles.NAME] sections, got an array`);
  });
});
