/** Connecting to Temporal with an error that says what to do when it is down. */
import { Client, Connection } from '@temporalio/client';
import { TemporalUnavailableError } from '../shared/errors';

export async function connectTemporal(address: string, namespace: string): Promise<Client> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
    await connection.workflowService.getSystemInfo({});
    return new Client({ connection, namespace });
  } catch (err) {
    throw new TemporalUnavailableError(
      `cannot reach the Temporal server at ${address} (${(err as Error).message.split('\n')[0]}); start it with \`npm run temporal\``,
    );
  }
}
