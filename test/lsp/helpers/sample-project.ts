/** A small Provium project used by the LSP suites: profiles, fixtures of both kinds, a helper module. */
export const SAMPLE_FILES: Record<string, string> = {
  'provium.toml': '[provium]\nroots = ["tests"]\n\n[profiles.fast]\nkernel = "build/bzImage"\n',
  'tests/fixtures/base.fixture.lua': [
    'local vm = provium:vm("base", "default"):boot()',
    'vm:run("echo ready > /etc/motd")',
    'return vm:snapshot()',
    '',
  ].join('\n'),
  'tests/fixtures/cluster.fixture.lua': [
    'local a = provium:vm("a", "default")',
    'local b = provium:vm("b", "fast")',
    'provium:bridge("lan", {})',
    'provium:boot()',
    'return provium:snapshot()',
    '',
  ].join('\n'),
  'tests/fixtures/noreturn.fixture.lua': 'local vm = provium:vm("x", "default")\nvm:boot()\n',
  'tests/fixtures/loop_a.fixture.lua': 'local vm = provium:vm_fixture("fixtures/loop_b")\nreturn vm:snapshot()\n',
  'tests/fixtures/loop_b.fixture.lua': 'local vm = provium:vm_fixture("fixtures/loop_a")\nreturn vm:snapshot()\n',
  'tests/helpers/net.lua': [
    'local M = {}',
    '',
    'function M.pair(lab)',
    '  return lab:vm("p", "default")',
    'end',
    '',
    'M.version = "1"',
    '',
    'return M',
    '',
  ].join('\n'),
};
