// An upstream API for the demo and the end-to-end tests: it answers every request with what it
// received, so one can see what tokengate forwarded — which token (decoded claims: audience,
// scope, subject), which headers (was the session cookie stripped? the client's Authorization
// replaced?), which path (was the prefix stripped?).
//
// The token itself is never printed nor echoed back: the page shows these answers in the
// browser, which must never hold an access token. The Authorization header is reported as
// present/absent and its value replaced by a placeholder.
//
// Usage: node echo.mjs --port 9101 --name orders

import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const HOST = '127.0.0.1';

/** The payload of a Bearer JWT, or null when there is none or it is not a decodable JWT. */
function bearerClaims(authorization) {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) return null;
  const parts = match[1].split('.');
  if (parts.length !== 3) return null;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return payload !== null && typeof payload === 'object' ? payload : null;
  } catch {
    return null;
  }
}

function describe(name, req) {
  const headers = { ...req.headers };
  if (headers.authorization !== undefined) {
    headers.authorization = '<redacted>';
  }
  return {
    upstream: name,
    method: req.method,
    path: req.url,
    headers,
    token: bearerClaims(req.headers.authorization),
    authorization_present: req.headers.authorization !== undefined,
  };
}

function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9101' },
      name: { type: 'string', default: 'echo' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer 0..65535, got ${values.port}`);
  }

  const server = createServer((req, res) => {
    // Drain the body so that keep-alive connections stay usable after a POST.
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify(describe(values.name, req));
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      });
      res.end(body);
    });
  });
  server.listen(port, HOST, () => {
    process.stdout.write(`echo ${values.name} ready http://${HOST}:${server.address().port}\n`);
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
  process.stderr.write(`echo: ${err.message}\n`);
  process.exit(2);
}
