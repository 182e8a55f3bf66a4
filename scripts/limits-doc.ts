/** Writes docs/limits.md from the limits table (`npm run docs:limits`). */
import fs from 'node:fs';
import path from 'node:path';
import { renderLimitsDoc } from '../src/config/limits-doc';

const target = path.resolve(__dirname, '../docs/limits.md');
fs.writeFileSync(target, renderLimitsDoc());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
