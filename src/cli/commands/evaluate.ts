import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadRunData, runPaths } from '../../experiments/run-dir.js';
import { loadModel } from '../../models/model-file.js';
import { evaluateBase, meanNdcg } from '../../eval/base-eval.js';
import { readNpyMatrixI32, writeNpy } from '../../data/npy.js';
import { hasPrepared, loadPrepared } from '../../calibration/prepare.js';
import { evaluateRun, type EvalSplit } from '../../eval/results.js';
import { USER_GROUP_NAMES } from '../../eval/user-groups.js';
import type { ReferenceMetrics } from '../../eval/metrics.js';
import { UserError } from '../../util/errors.js';
import { choice, float, positiveInt, requireStr, str } from '../args.js';
import type { Command } from '../command.js';

function metricsLine(label: string, m: ReferenceMetrics, width: number): string {
  const f = (x: number | undefined) => (x === undefined ? '      -' : x.toFixed(5).padStart(7));
  const parts = [label.padEnd(width), f(m.ndcg), f(m.jsd)];
  for (let g = 1; g <= 3; g++) parts.push(f(m[`ndcg_usergroup_${g}`]), f(m[`jsd_usergroup_${g}`]));
  return parts.join('  ');
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'Evaluate the backbone, every CP λ and every stored fine-tuning epoch: NDCG@10, JSD@10, user groups, RBO',
  usage: 'evaluate --run RUN [--experiment NAME] [--split test|valid] [--rbo-p 0.9] [--k 10]',
  options: { run: { type: 'string' }, k: { type: 'string' }, experiment: { type: 'string' }, split: { type: 'string' }, 'rbo-p': { type: 'string' } },
  help: `Options:
  --run DIR           run directory with a trained or imported model
  --experiment NAME   also evaluate every stored epoch of RUN/experiments/NAME (needs prepare)
  --split S           'test' (default) or 'valid': which lists and relevant items are scored
  --rbo-p P           persistence of rank-biased overlap vs the base list (default 0.9)
  --k N               list length (default 10)

The base model's lists are recomputed from RUN/model (item 0 and train items masked; test-
time lists also mask valid items) and saved to RUN/lists/base_{valid,test}.npy; without a
model, stored lists are used. CP lists are every RUN/postprocess/cp_{λ}_{split}.npy.
Metrics are means over every user (no relevant item → NDCG 0, as the reference); a user
without train items has P = 0 and a finite JSD.
Without 'calitune prepare' only the base model's NDCG is computed.

Writes RUN/results/NAME.json (NAME = experiment or 'base') in the reference's shape
(base_recommendations, postprocessed.{λ}, finetuned.epoch_N) plus a 'calitune' block
(validation-selected epoch per mode with its metrics, RBO summaries), and
RUN/results/NAME_per_user.tsv.

Examples:
  calitune evaluate --run runs/ml-100k
  calitune evaluate --run runs/ml-100k --experiment c0.5_frozen`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const k = positiveInt(v, 'k') ?? 10;
    const split: EvalSplit = choice(v, 'split', ['test', 'valid'] as const) ?? 'test';
    const rboP = float(v, 'rbo-p') ?? 0.9;
    if (!(rboP > 0 && rboP < 1)) throw new UserError(`--rbo-p must be in (0, 1), got ${rboP}`);
    const experiment = str(v, 'experiment');
    const { info, ds } = loadRunData(run);
    if (k >= ds.nItems) throw new UserError(`--k ${k} must be smaller than the number of items (${ds.nItems - 1})`);
    const rp = runPaths(run);
    const prepared = hasPrepared(run) ? loadPrepared(run, { nUsers: ds.nUsers, nItems: ds.nItems }) : undefined;
    if (!prepared && experiment !== undefined) {
      throw new UserError(`evaluating experiment '${experiment}' needs JSD@${k} and user groups: run 'calitune prepare --run ${run}' first`);
    }
    let baseLists: Record<EvalSplit, Int32Array>;
    let baseModel: Record<string, unknown> | undefined;
    const t0 = performance.now();
    if (existsSync(join(rp.model, 'model.json'))) {
      const { model, sidecar } = loadModel(rp.model, undefined, { train: ds.train });
      if (sidecar.data_fingerprint !== undefined && sidecar.data_fingerprint !== info.fingerprint) {
        throw new UserError(`the model in ${rp.model} was trained on other data than this run's split`);
      }
      if (model.nUsers !== ds.nUsers || model.nItems !== ds.nItems) {
        throw new UserError(`model has ${model.nUsers}×${model.nItems} users×items, the run ${ds.nUsers}×${ds.nItems}`);
      }
      const e = evaluateBase(model, ds, k);
      writeNpy(rp.baseList('valid'), '<i4', [ds.nUsers, k], e.lists.valid);
      writeNpy(rp.baseList('test'), '<i4', [ds.nUsers, k], e.lists.test);
      baseLists = e.lists;
      baseModel = { model_type: sidecar.model_type, k, valid: e.valid, test: e.test, lists: { valid: rp.baseList('valid'), test: rp.baseList('test') } };
    } else {
      const read = (s: EvalSplit) => {
        const p = rp.baseList(s);
        if (!existsSync(p)) throw new UserError(`${run} has neither a model (${rp.model}) nor base lists (${p})`);
        const a = readNpyMatrixI32(p);
        if (a.rows !== ds.nUsers || a.cols !== k) throw new UserError(`expected ${ds.nUsers}×${k} lists, got ${a.rows}×${a.cols}`, p);
        return a.data;
      };
      baseLists = { valid: read('valid'), test: read('test') };
      ctx.warn(`note: no model in ${rp.model}; using the stored base lists`);
    }
    const baseS = (performance.now() - t0) / 1000;
    const { results, paths } = evaluateRun({ run, ds, prepared, baseLists, experiment, split, k, rboP, baseModel, warn: ctx.warn });
    results.calitune.seconds.base_lists = baseS;

    const c = results.calitune;
    if (baseModel) {
      const bv = baseModel.valid as { ndcg: number }, bt = baseModel.test as { ndcg: number };
      ctx.info(`${String(baseModel.model_type)} on ${run}: ${ds.nUsers - 1} users, ${ds.nItems - 1} items`);
      ctx.info(`valid NDCG@${k} ${bv.ndcg.toFixed(5)}   test NDCG@${k} ${bt.ndcg.toFixed(5)}`);
    }
    if (!prepared) {
      ctx.info(`(no 'calitune prepare' yet: JSD, user groups and CP/epoch results need it)`);
    } else {
      const entries: [string, ReferenceMetrics][] = [['base', results.base_recommendations]];
      for (const [l, m] of Object.entries(results.postprocessed ?? {})) entries.push([`CP λ=${l}`, m]);
      const ft = Object.entries(results.finetuned ?? {});
      const sel = c.selected ?? {};
      const selEpochs = new Set(Object.values(sel).filter((s) => s !== null).map((s) => `epoch_${s!.epoch}`));
      // Print at most the first, selected and last epochs; the JSON has all.
      ft.forEach(([e, m], i) => { if (i === 0 || i === ft.length - 1 || selEpochs.has(e)) entries.push([e.replace('_', ' '), m]); });
      const w = Math.max(12, ...entries.map(([l]) => l.length));
      const g = USER_GROUP_NAMES.map((n) => n.slice(0, 5));
      ctx.info(`${split} metrics @${k} (groups ${USER_GROUP_NAMES.join(' / ')}):`);
      ctx.info([''.padEnd(w), '   NDCG', '    JSD', ...g.flatMap((n) => [`N ${n}`.padStart(7), `J ${n}`.padStart(7)])].join('  '));
      for (const [l, m] of entries) ctx.info(metricsLine(l, m, w));
      if (ft.length) {
        ctx.info(`${ft.length} stored epoch(s) evaluated; selected on validation:`);
        for (const [mode, s] of Object.entries(sel)) {
          if (!s) continue;
          const m = (s[split === 'test' ? 'test' : 'valid_lists'] as ReferenceMetrics);
          ctx.info(`  ${mode.padEnd(8)} epoch ${String(s.epoch).padStart(4)}  valid NDCG ${s.valid.valid_ndcg.toFixed(5)} JSD ${s.valid.jsd.toFixed(5)}  →  ${split} NDCG ${m.ndcg!.toFixed(5)} JSD ${m.jsd!.toFixed(5)}`);
        }
      }
    }
    ctx.info(`wrote ${paths.json} and ${paths.perUser} (${c.seconds.total!.toFixed(2)} s)`);
    // The base model's summary stays at the top level (as before: model_type, k, valid, test, lists).
    const baseSummary = baseModel ?? {
      k, valid: meanNdcg(baseLists.valid, k, k, ds.valid), test: meanNdcg(baseLists.test, k, k, ds.test),
      lists: { valid: rp.baseList('valid'), test: rp.baseList('test') },
    };
    return { run, ...baseSummary, results: paths.json, per_user: paths.perUser, ...results };
  },
};
