// Regenerates docs/reference/api.md from the schema in types/ (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { API, toReferenceMarkdown } from '@provium/types';

writeFileSync(new URL('../docs/reference/api.md', import.meta.url), toReferenceMarkdown(API) + '\n');
