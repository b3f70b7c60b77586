// The demo's web page, served as one more upstream behind tokengate (route `/`, auth optional):
// the gateway only proxies, so the page must come from somewhere it proxies to. Being behind
// the gateway puts the page on the gateway's origin, so its fetch calls carry the session
// cookie and its logout form passes the gateway's same-origin check.
//
// Usage: node static.mjs --port 9100

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const HOST = '127.0.0.1';

function main() {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '9100' } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer 0..65535, got ${values.port}`);
  }
  // Read once at start: the page is small and a missing file should fail the launch, not a request.
  const page = readFileSync(new URL('index.html', import.meta.url));

  const server = createServer((req, res) => {
    req.resume();
    const path = new URL(req.url, 'http://upstream').pathname;
    if ((req.method === 'GET' || req.method === 'HEAD') && (path === '/' || path === '/index.html')) {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': page.length,
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : page);
      return;
    }
    const body = JSON.stringify({ error: 'not_found', path });
    res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(port, HOST, () => {
    process.stdout.write(`static ready http://${HOST}:${server.address().port}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

try {
  main();
} catch (err) {
  process.stderr.write(`static: ${err.message}\n`);
  process.exit(2);
}
