// Runs INSIDE the sandbox, started by the self-test with node. Node
// built-ins and dns-packet only, so it runs wherever the controller runs.
// Prints one JSON array of checks on stdout.
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import { readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import packet from 'dns-packet';

export interface ProbeConfig {
  outsideName: string;
  outsideAddress: string;
  outsidePort: number;
  sshDir: string;
  forbiddenWrites: string[];
  timeoutMs: number;
}

type Observed = 'refused' | 'allowed' | 'error';
interface Check {
  name: string;
  observed: Observed;
  detail: string;
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

/** TCP connect: refused on any error, allowed on connect; a hang is not a refusal. */
function connect(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<[Observed, string]> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (o: Observed, d: string) => {
      socket.destroy();
      resolve([o, d]);
    };
    socket.setTimeout(timeoutMs, () =>
      done('error', `no answer and no refusal within ${timeoutMs} ms`),
    );
    socket.on('connect', () => done('allowed', `connected to ${host}:${port}`));
    socket.on('error', (e) => done('refused', code(e)));
  });
}

/** CONNECT through the sandbox's HTTP proxy, as proxy-aware clients do. */
function viaProxy(
  proxy: URL,
  target: string,
  timeoutMs: number,
): Promise<[Observed, string]> {
  return new Promise((resolve) => {
    const socket = net.connect({
      host: proxy.hostname,
      port: Number(proxy.port || 80),
    });
    const auth = proxy.username
      ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
      : '';
    const done = (o: Observed, d: string) => {
      socket.destroy();
      resolve([o, d]);
    };
    socket.setTimeout(timeoutMs, () =>
      done('error', `proxy gave no answer within ${timeoutMs} ms`),
    );
    socket.on('connect', () =>
      socket.write(
        `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`,
      ),
    );
    socket.once('data', (d) => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(d.toString())?.[1];
      // Only a 403 is the sandbox refusing; any other answer means the proxy
      // let the request through and something further on failed.
      done(
        status === '403' ? 'refused' : status ? 'allowed' : 'error',
        `proxy answered ${status ?? 'garbage'} for ${target}`,
      );
    });
    socket.on('error', (e) => done('refused', `proxy: ${code(e)}`));
  });
}

function proxyUrl(): URL | undefined {
  const raw =
    process.env.HTTPS_PROXY ??
    process.env.https_proxy ??
    process.env.HTTP_PROXY ??
    process.env.http_proxy;
  try {
    return raw ? new URL(raw) : undefined;
  } catch {
    return undefined;
  }
}

async function outsideByName(c: ProbeConfig): Promise<Check> {
  const proxy = proxyUrl();
  if (proxy) {
    const [observed, detail] = await viaProxy(
      proxy,
      `${c.outsideName}:443`,
      c.timeoutMs,
    );
    return { name: 'outside host by name', observed, detail };
  }
  try {
    // c-ares, not getaddrinfo: it tells a REFUSED answer (the sandbox's
    // resolver saying no) from a name that simply does not exist.
    const [address] = await new dns.Resolver({
      timeout: c.timeoutMs,
      tries: 1,
    }).resolve4(c.outsideName);
    if (!address)
      throw Object.assign(new Error('no address'), { code: 'ENODATA' });
    const [observed, detail] = await connect(address, 443, c.timeoutMs);
    return {
      name: 'outside host by name',
      observed,
      detail: `resolved to ${address}; ${detail}`,
    };
  } catch (e) {
    const refused = ['EREFUSED', 'ECONNREFUSED', 'ENETUNREACH'].includes(
      code(e),
    );
    return {
      name: 'outside host by name',
      observed: refused ? 'refused' : 'error',
      detail: refused
        ? `lookup refused: ${code(e)}`
        : `lookup failed without a refusal: ${code(e)}`,
    };
  }
}

async function outsideByAddress(c: ProbeConfig): Promise<Check> {
  const [observed, detail] = await connect(
    c.outsideAddress,
    c.outsidePort,
    c.timeoutMs,
  );
  return { name: 'outside host by address', observed, detail };
}

function udpQuery(
  server: string,
  timeoutMs: number,
): Promise<[Observed, string]> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
    const timer = setTimeout(
      () => done('error', `no answer and no refusal within ${timeoutMs} ms`),
      timeoutMs,
    );
    const done = (o: Observed, d: string) => {
      clearTimeout(timer);
      socket.close();
      resolve([o, d]);
    };
    socket.on('error', (e) => done('refused', code(e)));
    socket.on('message', () => done('allowed', `${server} answered`));
    const query = packet.encode({
      type: 'query',
      id: 4242,
      flags: packet.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'selftest.flow-sandbox.invalid' }],
    });
    // Connected, so an ICMP rejection surfaces as ECONNREFUSED. A connect
    // that fails reports through 'error'; only a real send counts.
    socket.once('connect', () => socket.send(query));
    socket.connect(53, server);
  });
}

async function dnsElsewhere(c: ProbeConfig): Promise<Check[]> {
  const [udp, udpDetail] = await udpQuery(c.outsideAddress, c.timeoutMs);
  const [tcp, tcpDetail] = await connect(c.outsideAddress, 53, c.timeoutMs);
  return [
    { name: 'DNS to another server (UDP)', observed: udp, detail: udpDetail },
    { name: 'DNS to another server (TCP)', observed: tcp, detail: tcpDetail },
  ];
}

async function sshKeys(c: ProbeConfig): Promise<Check> {
  let entries: string[];
  try {
    entries = await readdir(c.sshDir);
  } catch (e) {
    return {
      name: '~/.ssh unreadable',
      observed: 'refused',
      detail: `${c.sshDir}: ${code(e)}`,
    };
  }
  for (const entry of entries) {
    try {
      await readFile(path.join(c.sshDir, entry));
      return {
        name: '~/.ssh unreadable',
        observed: 'allowed',
        detail: `read ${path.join(c.sshDir, entry)}`,
      };
    } catch {
      // Unreadable entries are what we want.
    }
  }
  return {
    name: '~/.ssh unreadable',
    observed: 'refused',
    detail: entries.length
      ? `${entries.length} entries, none readable`
      : 'empty',
  };
}

async function writes(c: ProbeConfig): Promise<Check[]> {
  const checks: Check[] = [];
  for (const file of c.forbiddenWrites) {
    try {
      await writeFile(file, 'flow-sandbox self-test\n', { flag: 'wx' });
      await unlink(file).catch(() => undefined);
      checks.push({
        name: `write ${path.dirname(file)}`,
        observed: 'allowed',
        detail: `created ${file}`,
      });
    } catch (e) {
      checks.push({
        name: `write ${path.dirname(file)}`,
        observed: 'refused',
        detail: code(e),
      });
    }
  }
  return checks;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ProbeConfig;
  const checks = [
    await outsideByName(config),
    await outsideByAddress(config),
    ...(await dnsElsewhere(config)),
    await sshKeys(config),
    ...(await writes(config)),
  ];
  process.stdout.write(`${JSON.stringify(checks)}\n`);
}

if (
  process.argv[1] &&
  import.meta.url.endsWith(path.basename(process.argv[1]))
) {
  await main();
}
