import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRunData, runPaths } from '../../experiments/run-dir.js';
import { experimentPaths } from '../../experiments/experiment-dir.js';
import { loadModel } from '../../models/model-file.js';
import { loadPrepared } from '../../calibration/prepare.js';
import {
  checkFinetuneConfigForData, loadFinetuneConfig, validateFinetuneConfig, calibrationAlpha, type LoadedFinetuneConfig,
} from '../../experiments/finetune-config.js';
import { CheckpointStore, KEEP_POLICIES, type KeepPolicy } from '../../calibration/checkpoints.js';
import { checkUserAdapter, finetune, finetuneUsers, RESUME_FILE, LOG_FILE, SUMMARY_FILE, type FinetuneSummary, type SelectionMode } from '../../calibration/finetuner.js';
import { Validator } from '../../calibration/validation.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { UserError } from '../../util/errors.js';
import { bool, choice, requireStr, str } from '../args.js';
import type { Command, ParsedValues } from '../command.js';

function sets(v: ParsedValues): string[] {
  const x = v.set;
  if (x === undefined) return [];
  const arr = Array.isArray(x) ? x : [x];
  return arr.map((s) => {
    if (typeof s !== 'string') throw new UserError('--set needs key=value');
    return s;
  });
}

const MODE_LABEL: Record<SelectionMode, string> = {
  any: 'any (reference rule)', ndcg: 'best valid NDCG', pop_jsd: 'best valid JSD', tradeoff: 'best trade-off',
};

/**
 * After a crash: a checkpoint folder missing from the index was being written (the index is
 * written last), and `.NAME.tmp-*` files are unfinished atomic writes. Both are removed before
 * resuming; the resumed run writes them again.
 */
function removeIncompleteWrites(dir: string, ckDir: string, indexed: readonly number[]): void {
  const known = new Set(indexed.map((e) => `epoch_${e}`));
  const isTmp = (f: string) => f.startsWith('.') && f.includes('.tmp-');
  for (const f of existsSync(dir) ? readdirSync(dir) : []) if (isTmp(f)) rmSync(join(dir, f), { force: true });
  if (!existsSync(ckDir)) return;
  for (const f of readdirSync(ckDir)) {
    if (isTmp(f)) rmSync(join(ckDir, f), { force: true });
    else if (/^epoch_\d+$/.test(f) && !known.has(f)) rmSync(join(ckDir, f), { recursive: true, force: true });
    else if (known.has(f)) for (const g of readdirSync(join(ckDir, f))) if (isTmp(g)) rmSync(join(ckDir, f, g), { force: true });
  }
}

export const finetuneCommand: Command = {
  name: 'finetune',
  summary: 'CaliTune fine-tuning of the run\'s backbone (checkpoints, epoch log, validation-selected epochs)',
  usage: 'finetune --run RUN --config FILE.yaml --name NAME [--set key=value …] [--keep all|frontier|last] [--resume]',
  options: {
    run: { type: 'string' }, config: { type: 'string' }, name: { type: 'string' },
    set: { type: 'string', multiple: true }, keep: { type: 'string' }, resume: { type: 'boolean' },
    'popularity-source': { type: 'string' },
  },
  optionFlags: { experiment: 'name', configFile: 'config', overrides: 'set' },
  help: `Options:
  --run DIR              run directory with a backbone ('calitune train' / 'import') and
                         popularity groups / user targets ('calitune prepare')
  --config FILE.yaml     fine-tuning configuration: the reference's keys (random_seed, num_epochs,
                         train_batch_size, learning_rate, freeze_item_emb, combined_mode_alpha,
                         k_candidates, target_metric, …); see examples/ml-100k-finetune.yaml.
                         Ours on top: candidates_per_group (default 0) adds the n best items of
                         every popularity group outside the top k_candidates to the candidates;
                         user_adapter (default false; DMF) trains a per-user offset on the user
                         representation instead of the shared user tower.
                         With --resume it may be left out (the saved configuration is used).
  --name NAME            experiment name: output goes to RUN/experiments/NAME/
  --set key=value        override a config key (repeatable), e.g. --set combined_mode_alpha=1.0
  --keep POLICY          which checkpoint weights to keep: all, frontier (default: the
                         validation Pareto front of NDCG/JSD plus the newest), last. Lists and
                         metrics of every improvement epoch are always kept.
  --resume               continue an interrupted run from its last finished epoch
  --popularity-source S  check that 'prepare' used this popularity source (train|all)

Writes RUN/experiments/NAME/: experiment.json, config.json, log.jsonl (one line per epoch:
lr, loss terms, valid NDCG@k, JSD@k of test-time lists, trade-off, seconds per phase),
checkpoints/epoch_N/{weights.safetensors,valid_lists.npy,test_lists.npy,metrics.json},
checkpoints/checkpoints.json, resume.safetensors and summary.json (the epoch selected on
validation for each selection mode). Epochs are selected on validation metrics only.

Example:
  calitune prepare --run runs/oracle --popularity-source all
  calitune finetune --run runs/oracle --config examples/ml-100k-finetune.yaml --name c0.5_frozen`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const name = requireStr(v, 'name');
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') {
      throw new UserError(`--name '${name}' may only use letters, digits, '.', '_' and '-'`);
    }
    const resume = bool(v, 'resume');
    const keep: KeepPolicy = choice(v, 'keep', KEEP_POLICIES) ?? 'frontier';
    const popSource = choice(v, 'popularity-source', ['train', 'all'] as const);
    const overrides = sets(v);
    const ep = experimentPaths(run, name);
    const configPath = str(v, 'config');

    // Configuration (validated before touching the run).
    let loaded: LoadedFinetuneConfig;
    if (configPath !== undefined) {
      loaded = loadFinetuneConfig(configPath, overrides);
    } else if (resume && existsSync(ep.config)) {
      let raw: unknown;
      try { raw = JSON.parse(readFileSync(ep.config, 'utf8')); } catch (e) {
        throw new UserError(`not valid JSON (${(e as Error).message})`, ep.config);
      }
      loaded = validateFinetuneConfig(raw, ep.config);
      if (overrides.length) throw new UserError('--set needs --config (the saved configuration of a resumed run is used as is)');
    } else {
      throw new UserError('--config is required');
    }
    const { config, notes } = loaded;
    for (const n of notes) ctx.warn(`note: ${n}`);

    // Run data, preparation, backbone.
    const { info, ds } = loadRunData(run);
    checkFinetuneConfigForData(config, ds.nItems);
    const prep = loadPrepared(run, { nUsers: ds.nUsers, nItems: ds.nItems });
    if (popSource !== undefined && prep.summary.popularity_source !== popSource) {
      throw new UserError(`the run was prepared with --popularity-source ${prep.summary.popularity_source}, not ${popSource}: ` +
        `re-run 'calitune prepare --run ${run} --popularity-source ${popSource}'`);
    }
    const modelDir = runPaths(run).model;
    if (!existsSync(join(modelDir, 'model.json'))) {
      throw new UserError(`${run} has no backbone model yet: run 'calitune train --run ${run}' or 'calitune import' first`);
    }
    const { model, sidecar } = loadModel(modelDir, undefined, { train: ds.train });
    if (sidecar.data_fingerprint && sidecar.data_fingerprint !== info.fingerprint) {
      throw new UserError(`the backbone in ${modelDir} was trained on other data than this run's split`);
    }
    if (model.nUsers !== ds.nUsers || model.nItems !== ds.nItems) {
      throw new UserError(`the backbone has ${model.nUsers}×${model.nItems} users×items, the run ${ds.nUsers}×${ds.nItems}`);
    }
    checkUserAdapter(model, config.user_adapter);
    const users = finetuneUsers(ds.train);
    const empty = ds.nUsers - 1 - users.length;
    if (empty > 0) {
      ctx.warn(`warning: ${empty} user(s) have no train items: they are left out of fine-tuning (still evaluated, with P = 0)`);
    }

    if (!resume && existsSync(ep.resume)) {
      throw new UserError(`experiment '${name}' already exists in ${ep.dir}: resume it with --resume or choose another --name`);
    }
    if (resume && !existsSync(ep.resume)) ctx.warn(`note: nothing to resume in ${ep.dir}: starting from epoch 0`);
    const fresh = !(resume && existsSync(ep.resume));
    if (fresh) {
      writeJsonAtomic(ep.config, config);
      writeJsonAtomic(ep.experiment, {
        name, run: resolve(run), created: new Date().toISOString(),
        config_file: configPath !== undefined ? resolve(configPath) : null, overrides, notes, keep,
        model: { type: model.type, hyper: model.hyper, fingerprint: info.fingerprint },
        prepare: {
          popularity_source: prep.summary.popularity_source, proportions: prep.summary.proportions,
          n_groups: prep.nGroups, user_group_tie_break: prep.summary.user_groups.tie_break,
        },
        train_users: users.length, users_without_train_items: empty,
        selection_on: 'validation',
      });
    }

    const alpha = calibrationAlpha(config);
    ctx.info(`fine-tuning ${model.type} on ${run} → ${ep.dir}`);
    ctx.info(`  α ${alpha} (${config.finetuning_mode}), ${config.freeze_item_emb ? 'item embeddings frozen' : 'item embeddings trained'}, ` +
      `${config.user_adapter ? 'per-user adapter trained in place of the user-side tensors, ' : ''}` +
      `k ${config.k_candidates} ${config.candidate_selection} candidates, lr ${config.learning_rate}, batch ${config.train_batch_size}, ` +
      `seed ${config.random_seed}, up to ${config.num_epochs} epochs (patience ${config.early_stopping_patience}, target ${config.target_metric})`);

    const validator = new Validator({
      ds, itemGroups: prep.itemGroup, nGroups: prep.nGroups, targets: prep.targets,
      k: config.top_k_ndcg, removeValidItems: config.remove_valid_items,
    });
    const store = new CheckpointStore(ep.checkpoints, keep);
    if (!fresh) removeIncompleteWrites(ep.dir, ep.checkpoints, store.epochs());
    const progress = ctx.progress(`finetune ${name}`, config.num_epochs);
    let bestN = -Infinity, bestJ = Infinity;
    const t0 = performance.now();
    let summary: FinetuneSummary;
    try {
      summary = finetune({
        model, config, runDir: ep.dir, sink: store, resume,
        data: { train: ds.train, itemGroups: prep.itemGroup, nGroups: prep.nGroups, userTargets: prep.targets },
        validate: validator.validate,
        fusedValidate: (m, cand) => {
          const result = validator.run(m, cand);
          return { result, regenS: validator.lastTiming.candS };
        },
        onEpoch: (r) => {
          if (r.epoch >= 1) { bestN = Math.max(bestN, r.valid_ndcg); bestJ = Math.min(bestJ, r.jsd); }
          const best = r.epoch >= 1 ? ` | best NDCG ${bestN.toFixed(4)} JSD ${bestJ.toFixed(4)}` : ' (before fine-tuning)';
          progress.update(r.epoch, `valid NDCG@${config.top_k_ndcg} ${r.valid_ndcg.toFixed(4)} JSD@${config.top_k_ndcg} ${r.jsd.toFixed(4)}${best}`);
        },
      });
    } finally {
      progress.done();
    }
    const secs = (performance.now() - t0) / 1000;
    const f4 = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(5));
    ctx.info(`stopped: ${summary.stopReason} after epoch ${summary.epochsRun} (${secs.toFixed(1)} s this session)`);
    ctx.info(`before fine-tuning: valid NDCG@${config.top_k_ndcg} ${f4(summary.initial.validNdcg)}, JSD@${config.top_k_ndcg} ${f4(summary.initial.jsd)}`);
    ctx.info(`last epoch:         valid NDCG@${config.top_k_ndcg} ${f4(summary.final.validNdcg)}, JSD@${config.top_k_ndcg} ${f4(summary.final.jsd)}, trade-off ${f4(summary.final.tradeoff)}`);
    ctx.info('selected on validation:');
    for (const mode of ['any', 'ndcg', 'pop_jsd', 'tradeoff'] as const) {
      const s = summary.selected[mode];
      ctx.info(`  ${MODE_LABEL[mode].padEnd(22)} ${s ? `epoch ${String(s.epoch).padStart(4)}  valid NDCG ${f4(s.validNdcg)}  JSD ${f4(s.jsd)}  trade-off ${f4(s.tradeoff)}${s.checkpoint ? '' : '  (no checkpoint)'}` : '—'}`);
    }
    const kept = store.records().filter((r) => r.weights).map((r) => r.epoch);
    ctx.info(`checkpoints: ${summary.checkpointEpochs.length} epochs with lists and metrics, weights kept for ${kept.length} (--keep ${keep})`);
    ctx.info(`wrote ${ep.dir}`);
    return { run, name, dir: ep.dir, seconds: secs, config, notes, keep, weights_kept: kept, ...summary };
  },
};
