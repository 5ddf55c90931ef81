// GET a URL from Node; exit 0 only if the body names the expected host.
// Usage: node http_probe.mjs http|fetch URL LABEL [--direct]
//   http:  node:http, proxy-aware the way curl, git and urllib are (it
//          honours http_proxy and no_proxy), unless --direct;
//   fetch: the global fetch, which in Node 20 ignores proxy variables.
import http from 'node:http';

const [mode, url, label, flag] = process.argv.slice(2);
const target = new URL(url);

function proxyFor() {
  if (flag === '--direct') return null;
  const proxy = process.env.http_proxy || process.env.HTTP_PROXY;
  if (!proxy) return null;
  const skip = (process.env.no_proxy || process.env.NO_PROXY || '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const host = target.hostname.toLowerCase();
  const bypass = skip.some(
    (s) => s === '*' || host === s || host.endsWith(`.${s.replace(/^\./, '')}`),
  );
  return bypass ? null : new URL(proxy);
}

function viaHttp() {
  const proxy = proxyFor();
  const headers = { host: target.host };
  if (proxy?.username) {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    headers['proxy-authorization'] =
      `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  const options = proxy
    ? { host: proxy.hostname, port: proxy.port || 80, path: url, headers }
    : { host: target.hostname.replace(/^\[|\]$/g, ''), port: target.port || 80,
        path: target.pathname, headers };
  return new Promise((resolve, reject) => {
    const req = http.get({ ...options, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function viaFetch() {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

try {
  const body = await (mode === 'fetch' ? viaFetch() : viaHttp());
  console.error(`node ${mode} body: ${body.split('\n')[0]}`);
  process.exit(body.split('\n').includes(`fsbxt-host=${label}`) ? 0 : 1);
} catch (error) {
  console.error(`node ${mode}: ${error?.cause?.code ?? ''} ${error?.message}`);
  process.exit(1);
}
