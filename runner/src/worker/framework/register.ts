/**
 * Registers the test framework's part of the API into the default registry:
 * the test context, the globals test/todo/wait_until, the `provium` root lab
 * object and its file setting `provium.timeout`.
 */
import { defaultRegistry, type BindingRegistry, type FileServices } from '../binding/registry.js';
import { testGlobal, todoGlobal, waitUntilGlobal } from './globals.js';
import { testContextImpl } from './test-context.js';

/**
 * The object behind `provium` until the VM layer registers its own Lab
 * (`registry.registerGlobal('provium', { value: ... }, { replace: true })`).
 */
export class RootLab {}

export function registerFramework(registry: BindingRegistry): void {
  registry.registerClass('TestContext', testContextImpl);
  registry.registerClass('Lab', {
    receiver: 'lab',
    fields: {
      timeout: {
        get: (_lab, call) => call.services.fileTimeoutSeconds,
        set: (_lab, seconds, call) => call.services.setFileTimeout(seconds as number),
      },
    },
  });
  registry.registerGlobal('provium', { value: (_services: FileServices) => new RootLab() });
  registry.registerGlobal('test', { raw: testGlobal });
  registry.registerGlobal('todo', { raw: todoGlobal });
  registry.registerGlobal('wait_until', { raw: waitUntilGlobal });
}

registerFramework(defaultRegistry);
