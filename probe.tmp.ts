import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
(async () => {
  const c = await Connection.connect({ address: '127.0.0.1:7233' });
  const r = await c.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: 'reelflow-veo3', kind: 1 }, taskQueueType: 2 });
  console.log(Math.floor(Date.now()/1000), r.pollers.map((p) => ({ id: p.identity, at: p.lastAccessTime?.seconds?.toString() })));
  await c.close();
})();
