import { runChild } from '../exec/child.js';
import type { Engine } from './types.js';

/** No sandbox: the command runs directly. Chosen only with a loud warning. */
export const noneEngine: Engine = {
  name: 'none',
  setupSteps: [],

  async probe() {
    return { engine: 'none', usable: true, checks: [] };
  },

  plan() {
    return {
      engine: 'none',
      warnings: [
        "no sandbox: the command runs with the runner's full network and filesystem access",
      ],
      details: {},
    };
  },

  async apply(_ctx, input, _plan, controls) {
    const [file, ...args] = input.command.argv;
    const { status } = await runChild(
      { file: file!, args, cwd: input.command.cwd, env: input.command.env },
      controls,
    );
    return { exitCode: status };
  },
};
