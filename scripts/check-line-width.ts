/**
 * Fails when a tracked source line is longer than Prettier's printWidth.
 * Prettier wraps code but never breaks a string literal, a regex or a comment,
 * so `prettier --check` passes on lines it cannot shorten; this check catches them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const { printWidth } = JSON.parse(fs.readFileSync(path.join(root, '.prettierrc.json'), 'utf8')) as { printWidth?: number };
if (typeof printWidth !== 'number') throw new Error('.prettierrc.json: printWidth must be a number');

const checked = /\.(ts|js|mjs|css|html)$/;
// Fixtures are recorded histories and drizzle/meta is generated: neither is written by hand.
const excluded = [/^test\/fixtures\//, /^drizzle\/meta\//, /^package-lock\.json$/];

const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && checked.test(f) && !excluded.some((re) => re.test(f)))
  // A file deleted in the work tree but still tracked is not ours to measure.
  .filter((f) => fs.existsSync(path.join(root, f)));

const problems: string[] = [];
for (const file of files) {
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  lines.forEach((line, i) => {
    // Count code points, not UTF-16 units, so "…" or "→" counts as one column as Prettier does.
    const width = [...line.replace(/\r$/, '')].length;
    if (width > printWidth) problems.push(`${file}:${i + 1}: ${width} > ${printWidth}`);
  });
}

if (problems.length > 0) {
  console.error(`Lines longer than printWidth ${printWidth} (split the string or wrap the comment):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`line width: ${files.length} files, no line over ${printWidth}`);
