// A static HTTP server for a model folder, as the browser tools need it (bench:large,
// check:storage-full): HTTP Range, CORS and CORP; it logs the files asked for and counts the bytes sent.

import { createReadStream, statSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A static server for the model folder: Range, CORS and CORP (the page is cross-origin isolated). */
export function serveModel(dir: string): Promise<{ server: Server; url: string; requests: string[]; bytes: () => number }> {
  const requests: string[] = [];
  let sent = 0;
  const server = createHttpServer((req, res) => {
    const headers = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'range',
      'access-control-expose-headers': 'content-range, content-length', 'cross-origin-resource-policy': 'cross-origin' };
    if (req.method === 'OPTIONS') return void res.writeHead(204, headers).end();
    const name = decodeURIComponent(new URL(req.url!, 'http://x').pathname).slice(1).replace(/[^\w.-]/g, '');
    requests.push(name);
    const path = join(dir, name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return void res.writeHead(404, headers).end();
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, { ...headers, 'content-length': size - start,
      ...(m ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}) });
    const stream = createReadStream(path, { start });
    stream.on('data', (chunk) => { sent += chunk.length; }); // bytes read for the response (at most the socket's buffers ahead of the client)
    stream.pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/manifest.json`, requests, bytes: () => sent,
  })));
}
