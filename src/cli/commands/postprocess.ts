import { loadRunData, runPaths } from '../../experiments/run-dir.js';
import { loadModel } from '../../models/model-file.js';
import { loadPrepared } from '../../calibration/prepare.js';
import { DEFAULT_LAMBDAS, postprocessPaths, postprocessRun, validateCpSettings, type CpMode } from '../../rerank/postprocess.js';
import { UserError } from '../../util/errors.js';
import { floatList, int, requireStr } from '../args.js';
import type { Command } from '../command.js';

export const postprocessCommand: Command = {
  name: 'postprocess',
  summary: 'CP re-ranking (calibrated popularity) of the backbone\'s lists for a range of λ',
  usage: 'postprocess --run RUN [--lambdas 0.1,…,0.9] [--m 100] [--n 10] [--workers N] [--modes test,valid]',
  options: {
    run: { type: 'string' }, lambdas: { type: 'string' }, m: { type: 'string' }, n: { type: 'string' },
    workers: { type: 'string' }, modes: { type: 'string' },
  },
  help: `Options:
  --run DIR          run directory with a model and 'calitune prepare' done
  --lambdas L1,…     trade-off weights in [0, 1] (default 0.1,0.2,…,0.9); 0 = base order
  --m N              candidates per user from the base scores (default 100; must be ≥ --n)
  --n N              list length (default 10)
  --workers N        worker threads (default automatic; 1 = this thread only)
  --modes M          'test,valid' (default), 'test' or 'valid'

CP per DESIGN §3: scores with train (and, for test-time lists, valid) items masked, min-max
normalised over all finite scores, top-m per user, then greedily n items maximising
(1 − λ)·Σ relevance − λ·JSD(P_u, Q(list)). Exact utility ties keep the candidate with the
higher normalised score (then the lower item id). A user without train items has no target
and gets the plain top-n.
Writes RUN/postprocess/cp_{λ}_{test,valid}.npy (int32 users × n, row 0 = −1) and summary.json.

Example:
  calitune postprocess --run runs/oracle --lambdas 0.1,0.5,0.9`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const lambdas = floatList(v, 'lambdas') ?? [...DEFAULT_LAMBDAS];
    const m = int(v, 'm', { min: 1 }) ?? 100;
    const n = int(v, 'n', { min: 1 }) ?? 10;
    const workers = int(v, 'workers', { min: 1, max: 256 });
    const modesTxt = v.modes === undefined ? 'test,valid' : requireStr(v, 'modes');
    const modes = modesTxt.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const md of modes) if (md !== 'test' && md !== 'valid') throw new UserError(`--modes: '${md}' is not 'test' or 'valid'`);
    if (modes.length === 0) throw new UserError('--modes needs test and/or valid');
    validateCpSettings(lambdas, m, n);
    const { info, ds } = loadRunData(run);
    validateCpSettings(lambdas, m, n, ds.nItems);
    const prep = loadPrepared(run, { nUsers: ds.nUsers, nItems: ds.nItems });
    const { model, sidecar } = loadModel(runPaths(run).model, undefined, { train: ds.train });
    if (sidecar.data_fingerprint !== undefined && sidecar.data_fingerprint !== info.fingerprint) {
      throw new UserError(`the model in ${runPaths(run).model} was trained on other data than this run's split`);
    }
    if (model.nUsers !== ds.nUsers || model.nItems !== ds.nItems) {
      throw new UserError(`model has ${model.nUsers}×${model.nItems} users×items, the run ${ds.nUsers}×${ds.nItems}`);
    }
    if (prep.summary.empty_users.length > 0) {
      ctx.warn(`note: ${prep.summary.empty_users.length} user(s) without train items get the plain top-${n} (no target to calibrate to)`);
    }
    const s = await postprocessRun(run, model, ds, {
      lambdas, m, n, workers, modes: [...new Set(modes)] as CpMode[],
      itemGroup: prep.itemGroup, targets: prep.targets, nGroups: prep.nGroups,
    });
    const ms = (x: number) => `${(x * 1000).toFixed(1)} ms`;
    ctx.info(`CP on ${run}: ${s.users} users, λ ${s.lambda_keys.join(', ')}, m ${s.m}, n ${s.n}, ${s.workers_used || 1} thread(s)`);
    ctx.info(`  candidates (2 scoring passes, normalise, top-${s.m}): ${ms(s.seconds.candidates)}`);
    for (const md of s.modes) ctx.info(`  re-ranking ${md.padEnd(5)}: ${ms(s.seconds.rerank[md])} (${ms(s.seconds.per_lambda[md])} per λ)`);
    ctx.info(`  writing lists: ${ms(s.seconds.write)}; total ${s.seconds.total.toFixed(3)} s`);
    ctx.info(`wrote ${postprocessPaths(run).dir}/cp_{λ}_{${s.modes.join(',')}}.npy`);
    return { run, dir: postprocessPaths(run).dir, ...s };
  },
};
