/** The workflow bundle entry: every workflow the workers run. */
export { recommendationWorkflow } from './recommendation';
