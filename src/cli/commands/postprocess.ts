import { postprocess, type PostprocessResult } from '../../pipeline/postprocess.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { UserError } from '../../util/errors.js';
import { floatList, int, requireStr } from '../args.js';
import type { Command, ParsedValues } from '../command.js';

/** Prints a CP result: settings, timing per phase and the files written. */
export function printPostprocess(s: PostprocessResult, out: Reporter): void {
  const ms = (x: number) => `${(x * 1000).toFixed(1)} ms`;
  out.info(
    `CP on ${s.run}: ${s.users} users, λ ${s.lambda_keys.join(', ')}, m ${s.m}, n ${s.n}, ` +
      `${s.workers_used || 1} thread(s)`,
  );
  out.info(`  candidates (one scoring pass, normalise, top-${s.m}): ${ms(s.seconds.candidates)}`);
  for (const md of s.modes)
    out.info(`  re-ranking ${md.padEnd(5)}: ${ms(s.seconds.rerank[md])} (${ms(s.seconds.per_lambda[md])} per λ)`);
  out.info(`  writing lists: ${ms(s.seconds.write)}; total ${s.seconds.total.toFixed(3)} s`);
  out.info(`wrote ${s.dir}/cp_{λ}_{${s.modes.join(',')}}.npy`);
}

/** --modes: 'test,valid', 'test' or 'valid'. */
function modesFrom(v: ParsedValues): ('test' | 'valid')[] | undefined {
  if (v.modes === undefined) return undefined;
  const modes = requireStr(v, 'modes')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const md of modes)
    if (md !== 'test' && md !== 'valid') throw new UserError(`--modes: '${md}' is not 'test' or 'valid'`);
  if (modes.length === 0) throw new UserError('--modes needs test and/or valid');
  return modes as ('test' | 'valid')[];
}

/** `calitune postprocess`: CP re-ranking of the backbone's lists. */
export const postprocessCommand: Command = {
  name: 'postprocess',
  summary: "CP re-ranking (calibrated popularity) of the backbone's lists for a range of λ",
  usage: 'postprocess --run RUN [--lambdas 0.1,…,0.9] [--m 100] [--n 10] [--workers N] [--modes test,valid]',
  options: {
    run: { type: 'string' },
    lambdas: { type: 'string' },
    m: { type: 'string' },
    n: { type: 'string' },
    workers: { type: 'string' },
    modes: { type: 'string' },
  },
  help: `Options:
  --run DIR          run directory with a model and 'calitune prepare' done
  --lambdas L1,…     trade-off weights in [0, 1] (default 0.1,0.2,…,0.9); 0 = base order
  --m N              candidates per user from the base scores (default 100; must be ≥ --n)
  --n N              list length (default 10)
  --workers N        worker threads (default automatic; 1 = this thread only)
  --modes M          'test,valid' (default), 'test' or 'valid'

CP per docs/numeric-contract.md §11: scores with train (and, for test-time lists, valid) items masked, min-max
normalised over all finite scores, top-m per user, then greedily n items maximising
(1 − λ)·Σ relevance − λ·JSD(P_u, Q(list)). Exact utility ties keep the candidate with the
higher normalised score (then the lower item id). A user without train items has no target
and gets the plain top-n.
Writes RUN/postprocess/cp_{λ}_{test,valid}.npy (int32 users × n, row 0 = −1) and summary.json.

Example:
  calitune postprocess --run runs/oracle --lambdas 0.1,0.5,0.9`,
  async run(v, _pos, ctx) {
    const r = await postprocess(
      {
        run: requireStr(v, 'run'),
        lambdas: floatList(v, 'lambdas'),
        m: int(v, 'm', { min: 1 }),
        n: int(v, 'n', { min: 1 }),
        workers: int(v, 'workers', { min: 1, max: 256 }),
        modes: modesFrom(v),
      },
      ctx,
    );
    printPostprocess(r, ctx);
    return r;
  },
};
