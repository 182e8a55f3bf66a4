/**
 * One workflow file bundled on its own, for tests that need a worker for just
 * that workflow: seconds faster than bundling all of src/workflows, and as
 * quiet as the real workers' bundle.
 */
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { quietBundlerLogger } from '../../src/workers/workers';

/** `file` is relative to src/workflows, e.g. `notification.ts`. */
export function bundleWorkflowFile(file: string): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../src/workflows', file), logger: quietBundlerLogger });
}
