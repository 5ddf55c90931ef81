import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EventSink } from './listeners.js';

const MIB = 1024 * 1024;
/** Default size of /big.bin, for the throughput benchmark. */
export const BIG_FILE_MIB = 200;
/** Upper bound on ?mib=, so a typo cannot stream forever. */
const MAX_BIG_MIB = 4096;

/** The body every test host answers with: names which host was reached. */
export function hostBody(label: string, hostHeader: string): string {
  return `fsbxt-host=${label}\nhost-header=${hostHeader}\n`;
}

function labelFor(labels: Readonly<Record<string, string>>, local: string) {
  const address = local.replace(/^::ffff:/, '');
  return labels[address] ?? `unknown(${address})`;
}

// Streams `mib` MiB of one random block repeated: no file on disk, and the
// bytes are not trivially compressible by a proxy.
function sendBig(res: http.ServerResponse, mib: number): void {
  const block = randomBytes(MIB);
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(mib * MIB),
  });
  let sent = 0;
  const pump = (): void => {
    while (sent < mib) {
      sent++;
      if (!res.write(block)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

// Serves a file under `root` (the dumb-HTTP git repository); null if absent.
async function staticFile(root: string, urlPath: string) {
  const file = path.join(root, path.normalize(decodeURIComponent(urlPath)));
  if (!file.startsWith(`${root}${path.sep}`)) return null;
  const info = await stat(file).catch(() => null);
  return info?.isFile() ? { file, size: info.size } : null;
}

/** HTTP on port 80: the host's name, its static files, and /big.bin. */
export async function serveHttp(options: {
  port: number;
  labels: Readonly<Record<string, string>>;
  staticRoot?: string;
  log: EventSink;
}): Promise<http.Server> {
  const { labels, staticRoot, log } = options;
  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    const hostHeader = req.headers.host ?? '';
    const label = labelFor(labels, req.socket.localAddress ?? '');
    log({ kind: 'http', name: `${hostHeader}${url.pathname}` });

    if (url.pathname === '/big.bin') {
      const mib = Number(url.searchParams.get('mib') ?? BIG_FILE_MIB);
      const bounded = Number.isInteger(mib) && mib > 0 && mib <= MAX_BIG_MIB;
      sendBig(res, bounded ? mib : BIG_FILE_MIB);
      return;
    }
    if (staticRoot && url.pathname.endsWith('/') === false) {
      const found = await staticFile(staticRoot, url.pathname);
      if (found) {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': String(found.size),
        });
        createReadStream(found.file).pipe(res);
        return;
      }
      if (url.pathname.includes('.git/')) {
        res.writeHead(404).end('not found\n');
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(hostBody(label, hostHeader));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: '::', ipv6Only: false }, resolve);
  });
  return server;
}
