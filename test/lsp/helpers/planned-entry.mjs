// Preloaded into the language server (`node --import`) by the tests of planned entries: the real
// schema has no planned member today, so this adds one, VM:migrate, before the server reads it.
import { API } from '@provium/types';

const vm = API.classes.find((c) => c.name === 'VM');
if (vm.methods.some((m) => m.name === 'migrate')) throw new Error('planned-entry.mjs: VM:migrate exists in the schema now; pick another name');
vm.methods.push({
  name: 'migrate',
  params: [{ name: 'host', type: 'string', doc: 'Where to.' }],
  returns: 'nil',
  doc: 'Moves the running VM to another host.',
  status: 'planned',
});
