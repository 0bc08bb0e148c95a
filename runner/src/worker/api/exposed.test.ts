import { API } from '@provium/types';
import { expect, test } from 'vitest';
import { listExposed } from './exposed.js';

test('the runtime exposes exactly what the schema marks available (both ways)', () => {
  const exposed = listExposed();
  const availableGlobals = API.globals.filter((g) => g.status === 'available').map((g) => g.name).sort();
  expect(exposed.globals).toEqual(availableGlobals);
  for (const cls of API.classes) {
    const methods = cls.methods.filter((m) => m.status === 'available').map((m) => m.name).sort();
    const fields = cls.fields.filter((f) => f.status === 'available').map((f) => f.name).sort();
    expect(exposed.classes[cls.name], cls.name).toEqual({ methods, fields });
  }
  expect(Object.keys(exposed.classes).sort()).toEqual(API.classes.map((c) => c.name).sort());
});
