/**
 * Workflow sandbox lint: code under src/workflows/ must stay deterministic,
 * so it may not import Node built-ins, the database, providers or activities
 * (type-only imports are erased and allowed), nor read the wall clock or
 * randomness outside the SDK.
 */
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';

const root = path.resolve(__dirname, '../src/workflows');
// Workflow code imports names, ids and errors from src/shared: it must pass the import rules too
// (its sleep() may use timers; workflows never call it, they use wf.sleep).
const sharedRoot = path.resolve(__dirname, '../src/shared');
const forbiddenPaths = [
  /\/db\//,
  /\/src\/providers\//,
  /\/activities\//,
  /\/services\//,
  /\/gate\//,
  /\/simulators\//,
  /\/workers\//,
  /\/config\/env/,
];
const forbiddenPackages = new Set([
  'pg',
  'drizzle-orm',
  'openai',
  'undici',
  'pino',
  'fastify',
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
]);
const forbiddenCalls = [/\bnew Date\(\)/, /\bMath\.random\(/, /\bsetTimeout\(/, /\bsetInterval\(/, /\bprocess\.env\b/];

const problems: string[] = [];
function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}
for (const file of [...walk(root), ...walk(sharedRoot)]) {
  const inShared = file.startsWith(sharedRoot + path.sep);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const where = `${path.relative(process.cwd(), file)}:${i + 1}`;
    const m = /^\s*import\s+(type\s+)?.*?from\s+['"]([^'"]+)['"]/.exec(line);
    if (m && !m[1]) {
      const spec = m[2]!;
      const resolved = spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : spec;
      if (forbiddenPackages.has(spec) || forbiddenPaths.some((re) => re.test(resolved + '/'))) {
        problems.push(
          `${where}: workflow code imports "${spec}" (not allowed in the workflow sandbox; use \`import type\` or an activity)`,
        );
      }
    }
    for (const re of inShared ? [] : forbiddenCalls) {
      if (re.test(line) && !line.trim().startsWith('//') && !line.trim().startsWith('*')) {
        problems.push(`${where}: ${re.source} is not deterministic; use the SDK (wf.sleep, Date.now in the sandbox) instead`);
      }
    }
  });
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`workflow sandbox lint: ${walk(root).length + walk(sharedRoot).length} files clean (src/workflows, src/shared)`);
