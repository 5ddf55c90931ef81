// Manual debugging of the test network:
//   node dist/scripts/testnet/cli.js up [ID]         build it, print its id
//   node dist/scripts/testnet/cli.js exec ID -- CMD  run CMD in the runner
//   node dist/scripts/testnet/cli.js dns ID          names the DNS server saw
//   node dist/scripts/testnet/cli.js down ID         remove it
//   node dist/scripts/testnet/cli.js list            ids of test networks on this host
import { readdir } from 'node:fs/promises';
import { Testnet } from './testnet.js';

const USAGE =
  'usage: cli.js up [ID] | exec ID -- CMD... | dns ID | down ID | list';

/** Ids of test networks that exist here (namespaces or files), e.g. left by a killed run. */
async function listIds(): Promise<string[]> {
  const names = [
    ...(await readdir('/run/netns').catch(() => [] as string[])),
    ...(await readdir('/var/tmp').catch(() => [] as string[])),
  ];
  const ids = names.map((n) => /^fsbxt([0-9a-f]{4})(-|$)/.exec(n)?.[1]);
  return [...new Set(ids.filter((id): id is string => id !== undefined))];
}

async function main(args: string[]): Promise<number> {
  const [command, id, ...rest] = args;
  switch (command) {
    case 'up': {
      const net = await Testnet.create({ id, keepAlive: true });
      process.stdout.write(`${net.id}\n`);
      process.stderr.write(
        `testnet ${net.id}: runner namespace ${net.runnerNs}, files ${net.paths.base}\n`,
      );
      return 0;
    }
    case 'exec': {
      if (!id || rest[0] !== '--' || rest.length < 2) break;
      const net = Testnet.attach(id);
      const result = await net.exec(rest.slice(1));
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      return result.exitCode;
    }
    case 'dns': {
      if (!id) break;
      const names = await Testnet.attach(id).dnsQueries();
      process.stdout.write(names.map((n) => `${n}\n`).join(''));
      return 0;
    }
    case 'list': {
      process.stdout.write((await listIds()).map((i) => `${i}\n`).join(''));
      return 0;
    }
    case 'down': {
      if (!id) break;
      const failures = await Testnet.destroyById(id);
      for (const f of failures) process.stderr.write(`${f}\n`);
      return failures.length === 0 ? 0 : 1;
    }
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`testnet: ${String(error)}\n`);
    process.exit(1);
  },
);
