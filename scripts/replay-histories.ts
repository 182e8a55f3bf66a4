/**
 * `npm run replay [-- file.json ...]`: replays recorded workflow histories
 * (default: every test/fixtures/histories/*.json) against today's workflow
 * code and exits non-zero on the first nondeterminism. Run it before
 * deploying a change to a workflow: a P3 recommendation can wait a week, so
 * workers are upgraded under running workflows, and a change that makes an
 * old history replay differently must sit behind wf.patched().
 * Record a new fixture with `temporal workflow show --workflow-id <id> --output json`.
 * The SDK parses JSON histories with protobufjs 8 and checks message types by
 * identity, so every @temporalio package must share one protobufjs: that is
 * why package.json pins protobufjs itself (npm would otherwise nest a copy
 * under each package, beside the gRPC loader's protobufjs 7).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowBundle } from '../src/workers/workers';

const FIXTURES = path.resolve(__dirname, '../test/fixtures/histories');

async function main(): Promise<number> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const files = process.argv.slice(2).length
    ? process.argv.slice(2)
    : fs
        .readdirSync(FIXTURES)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => path.join(FIXTURES, f));
  if (files.length === 0) throw new Error(`no histories to replay in ${FIXTURES}`);
  const bundle = await workflowBundle();
  for (const file of files) {
    const history: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    try {
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, path.basename(file));
      console.log(`ok      ${path.basename(file)}`);
    } catch (err) {
      console.log(`FAILED  ${path.basename(file)}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`replay: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
