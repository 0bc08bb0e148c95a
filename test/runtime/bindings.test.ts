/**
 * The schema-driven binding layer with a class implemented in JS (what the VM
 * layer will do): argument checks and conversions from the schema, async
 * methods as host calls, class instances, records, unions, overloads, dynamic
 * members, planned and unimplemented members.
 */
import { API, type ApiSchema, type ClassSpec, type RecordSpec } from '@provium/types';
import { afterAll, describe, expect, test } from 'vitest';
import { API_BINDINGS } from '../../runner/src/worker/api/bindings.js';
import { listExposed } from '../../runner/src/worker/api/exposed.js';
import { BindingRegistry } from '../../runner/src/worker/binding/registry.js';
import { cleanupRuns, failureOf, runLua } from './helpers.js';

afterAll(cleanupRuns);

const A = 'available' as const;
const gadgetClass: ClassSpec = {
  name: 'Gadget',
  doc: 'A test class.',
  fields: [
    { name: 'name', type: 'string', doc: '', status: A },
    { name: 'level', type: 'integer', doc: '', status: A, writable: true },
    { name: 'secret', type: 'string', doc: '', status: 'planned' },
  ],
  dynamicMembers: { type: 'Gadget', doc: 'children by name' },
  methods: [
    { name: 'echo', params: [{ name: 'data', type: 'bytes' }], returns: 'bytes', doc: '', status: A },
    { name: 'slow_add', params: [{ name: 'a', type: 'integer' }, { name: 'b', type: 'integer' }, { name: 'opts', type: 'SlowOpts', optional: true }], returns: 'integer', doc: '', status: A },
    { name: 'configure', params: [{ name: 'opts', type: 'GadgetOpts' }], returns: 'GadgetInfo', doc: '', status: A },
    { name: 'child', params: [{ name: 'name', type: 'string' }], returns: 'Gadget', doc: '', status: A },
    { name: 'either', params: [{ name: 'x', type: 'Gadget|string' }], returns: 'Gadget|string', doc: '', status: A },
    { name: 'collect', params: [{ name: 'list', type: 'string[]' }, { name: 'env', type: 'table<string,string>' }], returns: 'table', doc: '', status: A },
    { name: 'find', params: [{ name: 'name', type: 'string' }, { name: 'n', type: 'integer' }], returns: 'string', doc: '', status: A, overloads: [{ params: [{ name: 'name', type: 'string' }], returns: 'string', doc: '' }] },
    { name: 'fail_async', params: [], returns: 'nil', doc: '', status: A },
    { name: 'hang', params: [], returns: 'nil', doc: '', status: A },
    { name: 'planned_op', params: [], returns: 'nil', doc: '', status: 'planned' },
    { name: 'unimplemented_op', params: [], returns: 'nil', doc: '', status: A },
  ],
};
const records: RecordSpec[] = [
  { name: 'SlowOpts', doc: '', fields: [{ name: 'delay', type: 'duration', doc: '', optional: true }] },
  { name: 'GadgetOpts', doc: '', fields: [{ name: 'size', type: 'size', doc: '', optional: false }, { name: 'label', type: 'string', doc: '', optional: false }, { name: 'mode', type: 'string', doc: '', optional: true }] },
  { name: 'GadgetInfo', doc: '', fields: [{ name: 'size', type: 'integer', doc: '', optional: false }, { name: 'label', type: 'string', doc: '', optional: false }] },
];
const schema: ApiSchema = {
  version: 'test',
  globals: [...API.globals, { name: 'gadget', kind: 'value', type: 'Gadget', doc: '', status: A }],
  classes: [...API.classes, gadgetClass],
  records: [...API.records, ...records],
};

class Gadget {
  level = 1;
  readonly children = new Map<string, Gadget>();
  constructor(readonly name: string) {}
}

const signals: AbortSignal[] = [];
let loopTurns = 0;
const registry = BindingRegistry.from(API_BINDINGS);
registry.registerClass<Gadget>('Gadget', {
  is: (v) => v instanceof Gadget,
  receiver: 'gadget',
  tostring: (g) => `Gadget(${g.name})`,
  fields: {
    name: { get: (g) => g.name },
    level: { get: (g) => g.level, set: (g, v) => (g.level = v as number) },
  },
  member: (g, name) => g.children.get(name),
  methods: {
    echo: (_g, [data]) => {
      expect(data).toBeInstanceOf(Uint8Array);
      return data;
    },
    slow_add: async (_g, [a, b, opts]) => {
      const delayMs = ((opts as { delay?: number } | undefined)?.delay ?? 0.01) * 1000;
      const turns = loopTurns;
      const tick = setInterval(() => loopTurns++, 1);
      await new Promise((r) => setTimeout(r, delayMs));
      clearInterval(tick);
      // The event loop kept turning while Lua waited.
      if (loopTurns === turns) throw new Error('event loop did not run');
      return (a as number) + (b as number);
    },
    configure: (_g, [opts]) => {
      const o = opts as { size: number; label: string };
      return { size: o.size, label: o.label.toUpperCase() };
    },
    child: (g, [name]) => {
      const c = g.children.get(name as string) ?? new Gadget(name as string);
      g.children.set(name as string, c);
      return c;
    },
    either: (_g, [x]) => (x instanceof Gadget ? `gadget ${x.name}` : new Gadget(x as string)),
    collect: (_g, [list, env]) => ({ list, env }),
    find: (_g, [name, n], call) => `${name as string}#${n ?? 'none'} overload ${call.overload}`,
    fail_async: async () => {
      throw new Error('boom');
    },
    hang: async (_g, _args, call) => {
      signals.push(call.signal);
      await new Promise(() => {});
    },
  },
});
registry.registerGlobal('gadget', { value: () => new Gadget('root') });

const run = (code: string, opts: Parameters<typeof runLua>[1] = {}) => runLua(code, { ...opts, run: { schema, registry } });

describe('a JS class bound from the schema', () => {
  test('conversions both ways, async methods, instances and fields', async () => {
    const r = await run(`
test("echo bytes", function(t)
  local all = {} for i = 0, 255 do all[#all + 1] = string.char(i) end
  local s = table.concat(all)
  t:assert(gadget:echo(s) == s)
end)
test("async", function(t)
  t:assert_eq(gadget:slow_add(2, 3), 5)
  t:assert_eq(gadget:slow_add(2, 3, {delay = "20ms"}), 5)
  local co = coroutine.wrap(function() return gadget:slow_add(1, 1) end)
  t:assert_eq(co(), 2)
  t:assert_eq(math.type(gadget:slow_add(1, 1)), "integer")
end)
test("records", function(t)
  t:assert_eq(gadget:configure({size = "2K", label = "x"}), {size = 2048, label = "X"})
end)
test("instances", function(t)
  local a = gadget:child("a")
  t:assert(a == gadget:child("a"), "same object, same userdata")
  t:assert(gadget.a == a, "dynamic member")
  t:assert_eq(a.name, "a")
  t:assert_eq(tostring(a), "Gadget(a)")
  a.level = 7
  t:assert_eq(a.level, 7)
  t:assert_eq(gadget:either(a), "gadget a")
  t:assert_eq(gadget:either("new").name, "new")
  t:assert_eq(gadget:collect({"x", "y"}, {K = "v"}), {list = {"x", "y"}, env = {K = "v"}})
end)
test("overloads", function(t)
  t:assert_eq(gadget:find("x", 2), "x#2 overload 0")
  t:assert_eq(gadget:find("x"), "x#none overload 1")
end)`);
    expect([...r.results.values()].map((e) => [e.test, e.event === 'test_failed' ? e.error.message : e.event])).toEqual([
      ['echo bytes', 'test_passed'],
      ['async', 'test_passed'],
      ['records', 'test_passed'],
      ['instances', 'test_passed'],
      ['overloads', 'test_passed'],
    ]);
  });

  test('argument, field and member errors name the method, parameter, expected and actual type', async () => {
    const r = await run(`
test("wrong type", function(t) gadget:slow_add("2", 3) end)
test("float for integer", function(t) gadget:slow_add(1.5, 3) end)
test("record field", function(t) gadget:configure({size = "2Q", label = "x"}) end)
test("missing field", function(t) gadget:configure({label = "x"}) end)
test("unknown field", function(t) gadget:configure({size = 1, label = "x", colour = "red"}) end)
test("list element", function(t) gadget:collect({"x", 2}, {}) end)
test("map value", function(t) gadget:collect({}, {K = 1}) end)
test("union", function(t) gadget:either(42) end)
test("overload", function(t) gadget:find(1) end)
test("overload extra argument", function(t) gadget:find("x", "y") end)
test("field type", function(t) gadget.level = "high" end)
test("read-only", function(t) gadget.name = "x" end)
test("planned method", function(t) gadget:planned_op() end)
test("planned field", function(t) local s = gadget.secret end)
test("unimplemented", function(t) gadget:unimplemented_op() end)
test("unknown member", function(t) t:assert_eq(gadget.nothing, nil); gadget:nothing() end)
test("async rejection", function(t) gadget:fail_async() end)`);
    const messages = Object.fromEntries([...r.results.keys()].map((k) => [k, failureOf(r, k)]));
    expect(messages).toEqual({
      'wrong type': "gadget:slow_add: bad argument #1 'a': expected integer, got string",
      'float for integer': "gadget:slow_add: bad argument #1 'a': expected integer, got number 1.5",
      'record field': `gadget:configure: bad argument #1 'opts': field 'size': invalid size "2Q": expected a number of bytes or a string with a unit (powers of 1024): "512M", "2G"`,
      'missing field': "gadget:configure: bad argument #1 'opts': missing field 'size' (size (number or \"512M\"))",
      'unknown field': "gadget:configure: bad argument #1 'opts': unknown field 'colour' (GadgetOpts has: size, label, mode)",
      'list element': "gadget:collect: bad argument #1 'list': element [2]: expected string, got number",
      'map value': "gadget:collect: bad argument #2 'env': ['K']: expected string, got number",
      union: "gadget:either: bad argument #1 'x': expected Gadget or string, got number",
      overload: "gadget:find: bad argument #1 'name': expected string, got number",
      'overload extra argument': "gadget:find: bad argument #2 'n': expected integer, got string",
      'field type': 'gadget.level: expected integer, got string',
      'read-only': 'gadget.name cannot be set: the settable fields are: level',
      'planned method': 'gadget:planned_op is not available yet in this version of Provium',
      'planned field': 'gadget.secret is not available yet in this version of Provium',
      unimplemented: 'gadget:unimplemented_op is in the API but this runtime has no implementation of it',
      // a class of named members answers nil for a name it lacks (the original's lab.<name>)
      'unknown member': "attempt to call a nil value (method 'nothing')",
      'async rejection': 'gadget:fail_async: boom',
    });
    const e = r.results.get('async rejection');
    expect(e?.event === 'test_failed' && e.error.location).toEqual({ file: 'tests/main.test.lua', line: 18 });
  });

  test('a timed-out test aborts the signal of its pending host work', async () => {
    signals.length = 0;
    const r = await run(`test("hangs", {timeout = "100ms"}, function(t) gadget:hang() end)`);
    expect(failureOf(r, 'hangs')).toContain('timed out');
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
  });

  test('async methods refuse non-yieldable places before starting', async () => {
    signals.length = 0;
    const r = await run(`test("sort", function(t) table.sort({2, 1}, function(a, b) gadget:hang() return a < b end) end)`);
    expect(failureOf(r, 'sort')).toContain('gadget:hang cannot be called inside a table.sort comparator');
    expect(signals).toHaveLength(0);
  });

  test('the exposed set follows the schema: available and implemented only', () => {
    const exposed = listExposed(schema, registry);
    expect(exposed.globals).toEqual(['gadget', 'provium', 'test', 'todo', 'wait_until']);
    expect(exposed.classes.Gadget).toEqual({
      methods: ['child', 'collect', 'configure', 'echo', 'either', 'fail_async', 'find', 'hang', 'slow_add'],
      fields: ['level', 'name'],
    });
  });
});
