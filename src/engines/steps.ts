// The setup steps of a sandboxed run, named once, here: the fault-injection
// test (integration/faults.test.ts) kills the controller after each of them
// and checks that cleanup leaves the host as it was. A step that creates
// something is listed; each engine reports its own list, and the test
// checks that a run passes exactly the steps listed.

/** Steps the run flow takes for every engine, before the engine's own. */
export const RUN_SETUP_STEPS = ['state-dir'] as const;

/** SRT: its temp directory, settings, proxies and bridges, the sandbox. */
export const SRT_SETUP_STEPS = [
  'srt-temp-dir',
  'srt-settings',
  'srt-proxies',
  'srt-sandbox',
] as const;

/**
 * kernel: state record, address lease, then namespace and veth, firewall,
 * view files and forwarding side by side, the resolver, and the sandbox's
 * mount and PID namespaces (ready once its view is built).
 */
export const KERNEL_SETUP_STEPS = [
  'kernel-record',
  'kernel-lease',
  'kernel-netns',
  'kernel-firewall',
  'kernel-view',
  'kernel-forwarding',
  'kernel-resolver',
  'kernel-sandbox',
] as const;

export type SetupStep =
  | (typeof RUN_SETUP_STEPS)[number]
  | (typeof SRT_SETUP_STEPS)[number]
  | (typeof KERNEL_SETUP_STEPS)[number];

/** Every step name, for validating the test hook's input. */
export const ALL_SETUP_STEPS: readonly SetupStep[] = [
  ...RUN_SETUP_STEPS,
  ...SRT_SETUP_STEPS,
  ...KERNEL_SETUP_STEPS,
];

/** Called once a setup step has recorded and created its objects. */
export type StepReached = (step: SetupStep) => void;
