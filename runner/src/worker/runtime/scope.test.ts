import { describe, expect, it } from 'vitest';
import { Scope } from './runtime.js';

describe('a scope\'s cleanups', () => {
  it('close streams, processes, files, workers, bridges, then VMs, each kind in creation order; the rest last, latest first; an error does not stop the others', async () => {
    const scope = new Scope('t', undefined);
    const order: string[] = [];
    const add = (name: string, kind?: Parameters<Scope['onEnd']>[1]) => scope.onEnd(() => void order.push(name), kind);
    add('vm a', 'vm');
    add('temp dir');
    add('bridge lan', 'bridge');
    add('process 1', 'process');
    scope.onEnd(() => {
      throw new Error('file gone');
    }, 'file');
    add('stream of 1', 'stream');
    add('vm b', 'vm');
    add('host process');
    add('file x', 'file');
    const errors = await scope.end();
    expect(order).toEqual(['stream of 1', 'process 1', 'file x', 'bridge lan', 'vm a', 'vm b', 'host process', 'temp dir']);
    expect(errors).toEqual(['file gone']);
  });
});
