// Regenerates what is derived from the API schema in types/ (run after `npm run build`):
// docs/reference/api.md and the binding interfaces the runtime implements.
import { writeFileSync } from 'node:fs';
import { API, toBindingInterfaces, toReferenceMarkdown } from '@provium/types';

writeFileSync(new URL('../docs/reference/api.md', import.meta.url), toReferenceMarkdown(API) + '\n');
writeFileSync(new URL('../types/src/api/bindings.generated.ts', import.meta.url), toBindingInterfaces(API));
