import { doctorReport } from '../../math/doctor.js';
import { float } from '../args.js';
import type { Command } from '../command.js';

/** `calitune doctor`: the active GEMM path and its measured speed. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary:
    'Show the Node.js line and its end of life, the active GEMM path (OpenBLAS binding or TypeScript fallback) and its measured GFLOP/s',
  usage: 'doctor [--seconds S]',
  options: { seconds: { type: 'string' } },
  help: `Options:
  --seconds S   time spent per measurement (default 0.5)

CALITUNE_GEMM=typescript forces the fallback; the OpenBLAS binding is built by
'npm run build:native' (needs libopenblas-dev).

Example:
  calitune doctor --json`,
  async run(v, _pos, ctx) {
    const seconds = float(v, 'seconds', { min: 0.01, max: 60 }) ?? 0.5;
    const r = doctorReport({ seconds });
    const shape = (s: readonly number[]) => s.join(' × ');
    ctx.info(`node         ${r.node}  (${r.nodeSupport.advice})`);
    ctx.info(`GEMM path    ${r.backend}`);
    ctx.info(`detail       ${r.detail}`);
    ctx.info(
      `active       ${r.active.gflops.toFixed(1)} GFLOP/s  (${shape(r.active.shape)}, ${r.active.repeats} runs)`,
    );
    ctx.info(`fallback     ${r.fallback.gflops.toFixed(2)} GFLOP/s  (TypeScript, ${shape(r.fallback.shape)})`);
    return r;
  },
};
