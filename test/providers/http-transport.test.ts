/**
 * The provider clients' wire (src/providers/http-transport.ts) against a real HTTP server on 127.0.0.1: what
 * HttpClient relied on fetch for (no redirects, a timeout over the whole body, decoded bodies, errors it can
 * classify) and what it adds (the socket kept between requests).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { HttpClient } from '../../src/providers/http';
import { freePort } from '../helpers/processes';
import { expectProviderError } from './support';

let server: http.Server;
let baseUrl: string;
let connections = 0;
const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const path = req.url!.split('?')[0];
      if (path === '/json') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true, echo: Buffer.concat(chunks).toString() }));
      } else if (path === '/gzip') {
        res.setHeader('content-encoding', 'gzip');
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.end(zlib.gzipSync(JSON.stringify({ zipped: 'yes'.repeat(100) })));
      } else if (path === '/redirect') {
        res.writeHead(308, { location: '/json', range: 'bytes=0-99' }).end();
      } else if (path === '/stall-mid-body') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('x'.repeat(10));
      } else if (path === '/slow-body') {
        res.writeHead(200);
        res.write('a');
        setTimeout(() => res.end('b'), 4_500);
      } else if (path === '/cut-mid-body') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('x'.repeat(10), () => res.socket?.destroy());
      } else {
        res.writeHead(404).end('no such route');
      }
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (timeoutMs = 2_000) => new HttpClient({ provider: 'test', baseUrl, timeoutMs, bearerToken: 'k' });

describe('the provider wire', () => {
  it('keeps its socket between requests, and sends the body with its length and the headers', async () => {
    const before = connections;
    const c = client();
    const first = await c.json({ method: 'POST', path: '/json', json: { n: 1 } }, z.object({ ok: z.boolean(), echo: z.string() }));
    const second = await c.send({ method: 'PUT', path: '/json', body: '' });
    expect(first).toEqual({ ok: true, echo: '{"n":1}' });
    expect(second.status).toBe(200);
    expect(connections - before).toBe(1);
    const [post, put] = seen.slice(-2);
    expect(post!.headers).toMatchObject({ 'content-type': 'application/json', 'content-length': '7', authorization: 'Bearer k' });
    expect(put!.headers['content-length']).toBe('0');
  });

  it('decodes a gzip body and keeps every value of a repeated header', async () => {
    const res = await client().send({ method: 'GET', path: '/gzip' });
    expect(JSON.parse(res.text)).toEqual({ zipped: 'yes'.repeat(100) });
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(seen.at(-1)!.headers['accept-encoding']).toContain('gzip');
  });

  it('follows no redirect: a 308 comes back as it was sent', async () => {
    const res = await client().send({ method: 'PUT', path: '/redirect', body: '' });
    expect(res.status).toBe(308);
    expect(res.headers.get('range')).toBe('bytes=0-99');
    expect(seen.at(-1)!.url).toBe('/redirect');
  });

  it('times out a body that stalls half way, as a transient timeout', async () => {
    const started = Date.now();
    const err = await expectProviderError(client(300).send({ method: 'GET', path: '/stall-mid-body' }), 'transient');
    expect(err.details.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("lets a request stay quiet longer than an idle socket's 4 s (an upload, a slow answer) within its own timeout", async () => {
    const res = await client(10_000).send({ method: 'GET', path: '/slow-body' });
    expect(res.text).toBe('ab');
  });

  it('never answers a body cut short as a short body', async () => {
    const err = await expectProviderError(client().send({ method: 'GET', path: '/cut-mid-body' }), 'transient');
    expect(err.message).toMatch(/GET \/cut-mid-body failed/);
  });

  it("stops on the caller's signal, as a transient abort", async () => {
    const controller = new AbortController();
    const pending = client().send({ method: 'GET', path: '/stall-mid-body', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const err = await expectProviderError(pending, 'transient');
    expect(err.details.code).toBe('aborted');
  });

  it('names a refused connection by its code, transient', async () => {
    const port = await freePort();
    const err = await expectProviderError(
      new HttpClient({ provider: 'test', baseUrl: `http://127.0.0.1:${port}` }).send({ method: 'GET', path: '/' }),
      'transient',
    );
    expect(err.details.code).toBe('ECONNREFUSED');
  });

  it('refuses a URL it cannot send to as permanent', async () => {
    const err = await expectProviderError(
      new HttpClient({ provider: 'test', baseUrl: 'ftp://127.0.0.1' }).send({ method: 'GET', path: '/' }),
      'permanent',
    );
    expect(err.details.code).toBe('ERR_INVALID_URL');
  });

  // Node's env proxies for custom agents came with Node 24 (the CI's and the Dockerfile's); Node 20 ignores them.
  it.runIf(Number(process.versions.node.split('.')[0]) >= 24)(
    'goes through the proxy the environment names when NODE_USE_ENV_PROXY=1',
    async () => {
      const proxied: string[] = [];
      const proxy = http.createServer((req, res) => {
        proxied.push(`${req.method} ${req.url}`);
        res.setHeader('content-type', 'application/json');
        res.end('{"via":"proxy"}');
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const saved = { NODE_USE_ENV_PROXY: process.env.NODE_USE_ENV_PROXY, HTTP_PROXY: process.env.HTTP_PROXY };
      try {
        process.env.NODE_USE_ENV_PROXY = '1';
        process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
        vi.resetModules();
        const { HttpClient: Proxied } = await import('../../src/providers/http');
        const res = await new Proxied({ provider: 'test', baseUrl: 'http://provider.invalid' }).send({ method: 'GET', path: '/x' });
        expect(res.text).toBe('{"via":"proxy"}');
        expect(proxied).toEqual(['GET http://provider.invalid/x']);
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
        vi.resetModules();
        await new Promise((resolve) => proxy.close(resolve));
      }
    },
  );
});
