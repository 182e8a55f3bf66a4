/**
 * startTemporalCluster against the run's cluster server: a second start reuses
 * it (the databases, namespace and search attributes are already there), and
 * bad options are refused naming the option.
 */
import { Connection } from '@temporalio/client';
import { expect, inject, it } from 'vitest';
import { startTemporalCluster } from '../../src/dev/temporal-cluster';
import { SEARCH_ATTRIBUTES } from '../../src/shared/messages';

it('a second start on a running cluster reuses it: nothing started, namespace and search attributes in place', async () => {
  const address = inject('temporalAddress');
  const port = Number(address.split(':')[1]);
  const again = await startTemporalCluster({ port, dbPrefix: 'temporal_test' });
  expect(again.address).toBe(address);
  expect(again.process()).toBeNull();
  await expect(again.kill()).rejects.toThrow(/did not start it/);
  await again.stop(); // a no-op: the run's server stays up

  const connection = await Connection.connect({ address });
  try {
    const described = await connection.workflowService.getSystemInfo({});
    expect(described.serverVersion).toBe('1.29.1');
    const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const sa of Object.values(SEARCH_ATTRIBUTES)) expect(Object.keys(attributes.customAttributes)).toContain(sa.name);
    const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(7 * 24 * 3600);
  } finally {
    await connection.close();
  }
});

it('refuses bad options, naming them', async () => {
  await expect(startTemporalCluster({ dbPrefix: 'Temporal-Test' })).rejects.toThrow(/dbPrefix/);
  await expect(startTemporalCluster({ port: 80 })).rejects.toThrow(/port: 80/);
  await expect(startTemporalCluster({ databaseUrl: 'mysql://127.0.0.1/x' })).rejects.toThrow(/databaseUrl/);
  await expect(startTemporalCluster({ sqlMaxConns: 0 })).rejects.toThrow(/sqlMaxConns/);
});
