// One test host's services, started inside its network namespace by
// servers.ts: `node server.js CONFIG.json`. Prints "ready" once every
// listener is bound, and exits when its parent's pipe closes, so a crashed
// test run cannot leave it behind.
import { readFileSync } from 'node:fs';
import { serveHttp } from './http-host.js';
import {
  eventWriter,
  serveDns,
  serveTcpGreeting,
  serveUdpEcho,
} from './listeners.js';
import { PORTS, ZONE } from './topology.js';
import { rogueResponse, Zone } from './zone.js';

/** What one host serves; written by servers.ts. */
export interface ServerConfig {
  host: string;
  /** Every address of the namespace (UDP sockets bind each one). */
  addresses: string[];
  labels: Record<string, string>;
  eventLog: string;
  staticRoot?: string;
  /** Serve the test zone authoritatively on port 53. */
  zone?: boolean;
  /** Answer every A query on port 53 with this address. */
  rogueDns?: string;
  /** Listen on TCP 853 (DNS over TLS) and log connections. */
  dot?: boolean;
  udpEcho?: boolean;
}

async function main(configFile: string): Promise<void> {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as ServerConfig;
  const log = eventWriter(config.eventLog, config.host);
  const dnsAddresses = config.addresses;

  await serveHttp({
    port: PORTS.http,
    labels: config.labels,
    staticRoot: config.staticRoot,
    log,
  });
  if (config.zone) {
    const zone = new Zone(ZONE);
    await serveDns({
      addresses: dnsAddresses,
      port: PORTS.dns,
      handler: (query) => zone.respond(query),
      log,
    });
  }
  if (config.rogueDns) {
    const address = config.rogueDns;
    await serveDns({
      addresses: dnsAddresses,
      port: PORTS.dns,
      handler: (query) => rogueResponse(query, address),
      log,
    });
  }
  if (config.dot) {
    await serveTcpGreeting({ port: PORTS.dot, greeting: 'fsbxt-dot\n', log });
  }
  if (config.udpEcho) {
    for (const port of [PORTS.udpEcho, PORTS.quic]) {
      await serveUdpEcho({ addresses: dnsAddresses, port, log });
    }
  }

  if (process.env.KEEP_ALIVE !== 'true') {
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('error', () => process.exit(0));
    process.stdin.resume();
  }
  process.stdout.write('ready\n');
}

const configFile = process.argv[2];
if (!configFile) {
  process.stderr.write('usage: node server.js CONFIG.json\n');
  process.exit(2);
}
main(configFile).catch((error: unknown) => {
  process.stderr.write(`fsbxt server: ${String(error)}\n`);
  process.exit(1);
});
