import { RuleIndex } from './rule-index.js';
import { applyLayers, emptyLayer, type PolicyLayer } from './layer.js';
import type { OperatorPolicy } from './operator.js';
import type { NetworkRule, Policy, RefusedRule, Setting } from './types.js';

/**
 * The operator's check of weaker sources' allow entries, with its denials
 * and the ceiling (what is already allowed) indexed once for the whole
 * merge. An entry overlapping an operator denial is refused in both modes,
 * even where the denial would win at run time anyway, so that the dry run
 * shows the conflict. In strict mode an entry must also be covered, by one
 * rule, by what is already allowed (the defaults and the operator's
 * allowed_domains): it then widens nothing.
 */
export class OperatorGate {
  private readonly denied: RuleIndex;
  private readonly allowed: RuleIndex | undefined;

  constructor(
    private readonly operator: OperatorPolicy,
    allowed: readonly NetworkRule[],
  ) {
    this.denied = new RuleIndex(operator.deny);
    this.allowed =
      operator.mode === 'strict' ? new RuleIndex(allowed) : undefined;
  }

  /** Why the operator refuses an allow entry, or undefined when it is accepted. */
  refusal(rule: NetworkRule): string | undefined {
    const denied = this.denied.firstOverlapping(rule);
    if (denied) {
      return `overlaps the operator's denied entry ${denied.raw} (${denied.source.origin}); operator denials always win`;
    }
    if (!this.allowed || this.allowed.covering(rule)) return undefined;
    return `not covered by the allowed_domains of the strict operator policy ${this.operator.file}; in strict mode other sources may only narrow it`;
  }
}

type SettingName =
  'allowAllUnixSockets' | 'allowLocalBinding' | 'allowGitConfig';

function operatorSockets(
  op: OperatorPolicy | undefined,
): Setting<boolean> | undefined {
  if (op?.allowAllUnixSockets === undefined) return undefined;
  return {
    value: op.allowAllUnixSockets,
    source: {
      kind: 'operator' as const,
      origin: `${op.file}: allow_all_unix_sockets`,
    },
  };
}

/** The strongest source's value for allow_all_unix_sockets that the operator lets stand. */
function socketsSetting(
  operator: OperatorPolicy | undefined,
  layers: PolicyLayer[],
  refused: RefusedRule[],
): Setting<boolean> | undefined {
  const fixed = operatorSockets(operator);
  let chosen = fixed;
  for (const layer of layers) {
    const s = layer.allowAllUnixSockets;
    if (!s) continue;
    const widens =
      s.value && (fixed ? !fixed.value : operator?.mode === 'strict');
    if (widens) {
      refused.push({
        raw: 'true',
        field: 'allow_all_unix_sockets',
        source: s.source,
        reason: fixed
          ? `the operator policy ${operator!.file} sets allow_all_unix_sockets: false`
          : `the operator policy ${operator!.file} is strict and does not allow all Unix sockets itself`,
      });
    } else {
      chosen ??= s;
    }
  }
  return chosen;
}

function firstSetting(layers: PolicyLayer[], name: SettingName) {
  return layers.find((l) => l[name] !== undefined)?.[name];
}

// TODO(#6): the operator gates network allow entries,
// allow_all_unix_sockets and the sockets it denies only; other unix_sockets
// paths and the filesystem keys of --config are not checked against it
// (under SRT any Unix socket path already opens them all, so a strict
// operator cannot narrow that today short of denying sockets by path).
export interface MergeInput {
  /** The built-in policy from the runner's environment. */
  defaults: Policy;
  operator?: OperatorPolicy;
  /** Every other source, strongest first: project, recommended, config, flags. */
  layers: PolicyLayer[];
}

/**
 * Merges the sources, strongest first. Lists keep the strongest source of
 * a duplicate; deny entries are always accepted (they only narrow);
 * settings come from the strongest source that sets them. Refused entries
 * are kept with the reason, for the dry run and the log.
 */
export function mergePolicy(input: MergeInput): Policy {
  const { operator } = input;
  const refused: RefusedRule[] = [...input.defaults.refused];
  const operatorLayers: PolicyLayer[] = operator
    ? [
        {
          ...emptyLayer(),
          allow: operator.allow,
          deny: operator.deny,
          denyUnixSockets: operator.denyUnixSockets,
        },
      ]
    : [];
  const operatorDenied = new Map(
    (operator?.denyUnixSockets ?? []).map((d) => [d.path, d]),
  );
  // The ceiling: what the defaults and the operator allow (a duplicate in
  // it changes no answer).
  const gate =
    operator &&
    new OperatorGate(operator, [
      ...input.defaults.network.allow,
      ...operator.allow,
    ]);
  const layers = input.layers.map((layer) => {
    const allow = layer.allow.filter((rule) => {
      const reason = gate?.refusal(rule);
      if (reason)
        refused.push({
          raw: rule.raw,
          field: 'allow',
          source: rule.source,
          reason,
        });
      return !reason;
    });
    const unixSockets = layer.unixSockets.filter((rule) => {
      const denied = operatorDenied.get(rule.path);
      if (denied)
        refused.push({
          raw: rule.raw,
          field: 'unix_sockets',
          source: rule.source,
          reason: `the operator denies this socket (${denied.source.origin}); operator denials always win`,
        });
      return !denied;
    });
    return {
      ...layer,
      allow,
      unixSockets,
      allowAllUnixSockets: undefined,
      allowLocalBinding: undefined,
      allowGitConfig: undefined,
    };
  });
  const policy = applyLayers(input.defaults, [...operatorLayers, ...layers]);
  const sockets = socketsSetting(operator, input.layers, refused);
  const binding = firstSetting(input.layers, 'allowLocalBinding');
  const gitConfig = firstSetting(input.layers, 'allowGitConfig');
  // A denied socket leaves the allowed list whichever source named it
  // (the built-in Docker socket too): deny wins.
  const denied = new Set(policy.network.denyUnixSockets.map((r) => r.path));
  return {
    network: {
      ...policy.network,
      unixSockets: policy.network.unixSockets.filter(
        (r) => !denied.has(r.path),
      ),
      allowAllUnixSockets: sockets ?? policy.network.allowAllUnixSockets,
      allowLocalBinding: binding ?? policy.network.allowLocalBinding,
    },
    filesystem: {
      ...policy.filesystem,
      allowGitConfig: gitConfig ?? policy.filesystem.allowGitConfig,
    },
    refused,
  };
}
