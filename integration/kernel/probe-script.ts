/**
 * A shell script for the sandbox that runs each named check and prints
 * `name=ok` or `name=fail`, with its time in ms: one engine run answers
 * many questions, and the output is easy to assert on.
 */
export function checkScript(checks: Array<[string, string]>): string {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const lines = checks.map(
    ([name, command]) => `check ${name} ${quote(command)}`,
  );
  return [
    'now() { date +%s%3N; }',
    'check() { s=$(now); if sh -c "$2" >/dev/null 2>&1; then r=ok; else r=fail; fi; echo "$1=$r $(( $(now) - s ))"; }',
    ...lines,
  ].join('\n');
}

/** The results of a check script: name to ok, and the time each took. */
export function parseChecks(
  stdout: string,
): Record<string, { ok: boolean; ms: number }> {
  const out: Record<string, { ok: boolean; ms: number }> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([\w-]+)=(ok|fail) (\d+)$/.exec(line.trim());
    if (match) out[match[1]!] = { ok: match[2] === 'ok', ms: Number(match[3]) };
  }
  return out;
}
