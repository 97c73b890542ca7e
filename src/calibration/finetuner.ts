/**
 * The CaliTune fine-tuning loop (DESIGN §3, issue 3 item 4), model- and metric-agnostic: it
 * drives any Recommender through forwardCandidates/backwardCandidates and gets validation
 * metrics from an injected callback.
 *
 * Per epoch: shuffle the training users (users 1..n−1 with ≥ 1 train item; padding user 0 is
 * left out, unlike the reference) with the seeded RNG; batches of `train_batch_size` users:
 * scores of their K candidates → CaliTune loss → gradients → RAdam step (over all parameters,
 * or only non-item-side ones when freeze_item_emb; the model is told with setItemsFrozen so it
 * skips item gradients altogether). A model with its own accuracy loss (the optional
 * Recommender.nativeAccuracyLoss, e.g. MultiVAE's CE + β·KL) gets it as the accuracy term in
 * place of the listwise KL over the candidates, weighted 1 − α; the calibration term is
 * unchanged. The step is RowSparseRAdam: PyTorch's dense RAdam with the
 * zero-gradient rows' updates applied lazily in closed form (see the class). Then StepLR,
 * candidate regeneration and validation (one shared scoring pass with `fusedValidate`), model
 * selection, checkpoint, log line, resume state.
 *
 * Selection follows the reference: best-so-far starts at NDCG 0, JSD 1, trade-off 0; for
 * `any` an epoch improves if NDCG, JSD or trade-off beats its own best; each improved metric
 * counts towards `model_save_interval`; early stopping when epoch − last improvement ≥
 * patience; stop after 3 consecutive epochs whose NDCG and JSD both moved < 1e-6.
 * Unlike the reference we checkpoint copies of the weights (DESIGN §4).
 *
 * What it keeps goes through a FinetuneJournal (the run store's experiment folder implements
 * it): the epoch log (one record per epoch, epoch 0 = before fine-tuning), the resume state
 * (after the last finished epoch, written each epoch) and the summary. Resume reloads the
 * state, truncates the log to its epoch, rolls checkpoints back to it and continues; the
 * result equals an uninterrupted run bit for bit.
 */
import type { Recommender } from '../models/recommender.js';
import type { Parameter } from '../nn/parameter.js';
import type { Csr } from '../math/csr.js';
import { Rng } from '../math/rng.js';
import { RowSparseRAdam } from '../nn/row-sparse-radam.js';
import type { Optimizer, OptimizerState } from '../nn/optimizer.js';
import { StepLR, type StepLRState } from '../nn/lr-schedule.js';
import { CaliTuneLoss } from './loss.js';
import { CandidatePicker, candidateLabels, randomCandidates, relevanceCandidates } from './candidates.js';
import type { ImprovementSink, NamedTensor } from './checkpoints.js';
import { SELECTION_MODES, selectEpochs as selectEpochPoints, type SelectionMode } from '../selection/index.js';
import { calibrationAlpha, DEFAULT_FINETUNE_CONFIG, type FinetuneConfig, type TargetMetric } from './finetune-config.js';
import type { SafeTensor, SafeTensorsFile } from '../models/safetensors.js';
import { InputError, UserError } from '../util/errors.js';

// Re-exported: tests and callers reach the optimizer through the fine-tuner too.
export { RowSparseRAdam };

const RESUME_VERSION = 1;

export interface FinetuneData {
  /** Train interactions (rows = users incl. padding 0, sorted columns). */
  readonly train: Csr;
  /** Popularity group per item (−1 = none), length nItems. */
  readonly itemGroups: Int32Array;
  readonly nGroups: number;
  /** Target distribution per user, nUsers × nGroups. */
  readonly userTargets: Float64Array | Float32Array;
}

export interface ValidationResult {
  /** Valid NDCG@k, train items masked. */
  validNdcg: number;
  /** JSD@k of test-time lists (train and valid masked). */
  jsd: number;
  /** nUsers × k valid-time lists (stored with checkpoints). */
  validLists?: Int32Array;
  /** nUsers × k test-time lists. */
  testLists?: Int32Array;
}

export interface EpochLogRecord {
  epoch: number;
  lr: number;
  acc_loss: number | null;
  cal_loss: number | null;
  valid_ndcg: number;
  jsd: number;
  tradeoff: number | null;
  improved: string[];
  checkpoint: boolean;
  train_s: number;
  regen_s: number;
  valid_s: number;
}

export type StopReason = 'max_epochs' | 'early_stopping' | 'identical_metrics' | 'interrupted';
export type { SelectionMode };

export interface SelectedEpoch {
  epoch: number;
  validNdcg: number;
  jsd: number;
  tradeoff: number | null;
  /** Whether a checkpoint (lists, and weights unless pruned) exists for it. */
  checkpoint: boolean;
}

export interface FinetuneSummary {
  epochsRun: number;
  stopReason: StopReason;
  initial: { validNdcg: number; jsd: number };
  final: { validNdcg: number; jsd: number; tradeoff: number | null };
  targetMetric: TargetMetric;
  /** Validation-selected epoch per selection mode (null if no epoch ran). */
  selected: Record<SelectionMode, SelectedEpoch | null>;
  checkpointEpochs: number[];
  trainableTensors: string[];
  trainUsers: number;
}

export interface FinetuneOptions {
  model: Recommender;
  config: FinetuneConfig;
  data: FinetuneData;
  validate: (model: Recommender) => ValidationResult;
  /**
   * Optional fused pass: validation that also writes the relevance candidates of `cand.users`
   * (cand.picker's choice by the current scores, item 0 masked) into cand.out, sharing one
   * scoring pass.
   * Used instead of validate + a separate regeneration when relevance candidates are
   * regenerated; `regenS` is the part of its time spent on the candidates.
   */
  fusedValidate?: (model: Recommender, cand: { users: Int32Array; picker: CandidatePicker; out: Int32Array }) => { result: ValidationResult; regenS: number };
  /** Where the epoch log, resume state and summary go (the run store's experimentJournal of a folder). */
  journal: FinetuneJournal;
  /** Checkpoint writer (e.g. CheckpointStore); none → no checkpoints. */
  sink?: ImprovementSink;
  resume?: boolean;
  /** Stop cleanly after this epoch (as if interrupted; the run can be resumed). */
  stopAfterEpoch?: number;
  onEpoch?: (rec: EpochLogRecord) => void;
  /** Users per scoring block for relevance candidates (default 256). */
  scoreBlockUsers?: number;
}

/** The fine-tuner's persistent state; `where` and `resumeName` only name it in messages. */
export interface FinetuneJournal {
  readonly where: string;
  readonly resumeName: string;
  hasResume(): boolean;
  readResume(): SafeTensorsFile;
  writeResume(tensors: ReadonlyMap<string, SafeTensor>, metadata: Record<string, string>): void;
  /** Epoch records with epoch ≤ maxEpoch. */
  readLog(maxEpoch: number): EpochLogRecord[];
  /** Replaces the log. */
  writeLog(records: readonly EpochLogRecord[]): void;
  appendLog(record: EpochLogRecord): void;
  writeSummary(summary: FinetuneSummary): void;
}

/**
 * Optional model capability (BprModel has it): the rows of parameter `name` that the last
 * backwardCandidates may have written — all other rows of its gradient are untouched. Lets the
 * optimizer skip scanning the gradients for non-zero rows.
 */
export interface CandidateGradRows {
  candidateGradRows(name: string): Int32Array | undefined;
}

function hasCandidateGradRows(m: unknown): m is CandidateGradRows {
  return typeof (m as Partial<CandidateGradRows>).candidateGradRows === 'function';
}

/** Users 1..n−1 with at least one train item, ascending. */
export function finetuneUsers(train: Csr): Int32Array {
  const out: number[] = [];
  for (let u = 1; u < train.nRows; u++) if (train.indptr[u + 1]! > train.indptr[u]!) out.push(u);
  return Int32Array.from(out);
}

/** (ndcg/ndcg₀)^0.5 · (jsd₀/jsd)^0.5; null when undefined (a zero denominator). */
export function tradeoffScore(ndcg: number, jsd: number, ndcg0: number, jsd0: number): number | null {
  const t = Math.sqrt(ndcg / ndcg0) * Math.sqrt(jsd0 / jsd);
  return Number.isFinite(t) ? t : null;
}

/** `user_adapter: true` needs a model that has one (UserError otherwise, before anything is written). */
export function checkUserAdapter(model: Recommender, userAdapter: boolean): void {
  if (userAdapter && typeof model.enableUserAdapter !== 'function') {
    throw new UserError(`config key 'user_adapter': the ${model.type} model has none — it is for backbones without per-user parameters (DMF); ${model.type} fine-tunes its own user-side tensors`);
  }
}

/**
 * The trainable parameters: all, or only non-item-side ones when item tensors are frozen. With
 * `userAdapter` the model's per-user adapter (enabled here) replaces the user-side tensors.
 */
export function trainableParameters(model: Recommender, freezeItems: boolean, userAdapter = false): Parameter[] {
  if (!userAdapter) return model.parameters().filter((p) => !(freezeItems && p.itemSide));
  checkUserAdapter(model, true);
  const adapter = model.enableUserAdapter!();
  return [adapter, ...model.parameters().filter((p) => p.itemSide && !freezeItems)];
}

/** Validation-based selection per mode over epoch records (the one rule: src/selection). */
export function selectEpochs(records: readonly EpochLogRecord[], checkpointEpochs: readonly number[] = []): Record<SelectionMode, SelectedEpoch | null> {
  const has = new Set(checkpointEpochs);
  const points = records.map((r) => ({ epoch: r.epoch, validNdcg: r.valid_ndcg, jsd: r.jsd, tradeoff: r.tradeoff }));
  const chosen = selectEpochPoints(points);
  const out = {} as Record<SelectionMode, SelectedEpoch | null>;
  for (const mode of SELECTION_MODES) {
    const p = chosen[mode];
    out[mode] = p ? { ...p, checkpoint: has.has(p.epoch) } : null;
  }
  return out;
}

interface ResumeMeta {
  version: number;
  epoch: number;
  config: FinetuneConfig;
  modelType: string;
  trainUsers: number;
  optimizer: { step: number; lr: number };
  schedule: StepLRState;
  rng: number[];
  best: { ndcg: number; jsd: number; tradeoff: number };
  initial: { validNdcg: number; jsd: number };
  last: { validNdcg: number; jsd: number };
  lastImprovementEpoch: number;
  improvementCounter: number;
  identicalCounter: number;
  stopReason: StopReason | null;
}

const CONFIG_KEYS_FREE_ON_RESUME = new Set(['num_epochs', 'early_stopping_patience']);

/** Runs (or resumes) a fine-tuning; returns the summary (also written to the journal). */
export function finetune(opts: FinetuneOptions): FinetuneSummary {
  const { model, config: cfg, data, journal } = opts;
  const G = data.nGroups;
  const alpha = calibrationAlpha(cfg);
  if (data.train.nRows !== model.nUsers) throw new UserError(`train matrix has ${data.train.nRows} users, the model ${model.nUsers}`);
  if (data.itemGroups.length !== model.nItems) throw new UserError(`item groups cover ${data.itemGroups.length} items, the model has ${model.nItems}`);
  if (data.userTargets.length !== model.nUsers * G) throw new UserError(`user targets hold ${data.userTargets.length} values, expected ${model.nUsers}×${G}`);
  if (cfg.k_candidates > model.nItems - 1) throw new UserError(`config key 'k_candidates': ${cfg.k_candidates} is more than the ${model.nItems - 1} items of the dataset`);
  if (cfg.candidates_per_group > 0 && cfg.candidate_selection !== 'relevance') {
    throw new UserError(`config key 'candidates_per_group': ${cfg.candidates_per_group} applies to relevance candidates only (candidate_selection is '${cfg.candidate_selection}')`);
  }
  if (cfg.k_candidates + G * cfg.candidates_per_group > model.nItems - 1) {
    throw new UserError(`config keys 'k_candidates' + ${G} groups × 'candidates_per_group' = ${cfg.k_candidates + G * cfg.candidates_per_group} candidates, more than the ${model.nItems - 1} items of the dataset`);
  }
  const picker = new CandidatePicker(model.nItems, cfg.k_candidates, cfg.candidates_per_group, data.itemGroups, G);
  /** Candidates per user: k_candidates plus the per-group extras. */
  const K = picker.width;
  const users = finetuneUsers(data.train);
  if (users.length === 0) throw new UserError('no user has train items: nothing to fine-tune');
  const nTrain = users.length;
  const params = trainableParameters(model, cfg.freeze_item_emb, cfg.user_adapter);
  if (params.length === 0) throw new UserError('the model has no trainable tensors with freeze_item_emb = true');
  // Frozen item tensors: the model may skip their gradients entirely (no compute, no zeroing).
  model.setItemsFrozen?.(cfg.freeze_item_emb);
  // The optimizer zeroes the gradient rows it consumes, so the model's zeroGrad (a full fill of
  // every gradient tensor per batch) is needed only once — unless frozen tensors the model
  // cannot skip would accumulate gradients.
  const gradsSelfZeroing = !cfg.freeze_item_emb || typeof model.setItemsFrozen === 'function';
  const optimizer = new RowSparseRAdam(params, { lr: cfg.learning_rate, consumeGrads: gradsSelfZeroing });
  // Row hints are only valid when the gradients hold nothing but the last backward's rows.
  const rowHints = gradsSelfZeroing && hasCandidateGradRows(model) ? model : undefined;
  const schedule = new StepLR(optimizer, cfg.lr_scheduler_step_size, cfg.lr_scheduler_gamma);

  let rng = new Rng(cfg.random_seed);
  let candidates = new Int32Array(nTrain * K);
  let labels = new Uint8Array(nTrain * K);
  const st = {
    epoch: 0,
    best: { ndcg: 0, jsd: 1, tradeoff: 0 },
    initial: { validNdcg: 0, jsd: 0 },
    last: { validNdcg: 0, jsd: 0 },
    lastImprovementEpoch: 0,
    improvementCounter: 0,
    identicalCounter: 0,
    stopReason: null as StopReason | null,
  };
  let history: EpochLogRecord[] = [];

  const fused = cfg.candidate_selection === 'relevance' ? opts.fusedValidate : undefined;
  const makeCandidates = (): void => {
    if (cfg.candidate_selection === 'relevance') relevanceCandidates(model, users, picker, opts.scoreBlockUsers ?? 256, candidates);
    else randomCandidates(rng, nTrain, model.nItems, K, candidates);
    candidateLabels(data.train, users, candidates, K, labels);
  };

  /**
   * Validation of the current model and, when `regenerate`, new candidates (+ labels): one
   * scoring pass when the caller supplied the fused validator, else two. Times each part.
   */
  const validateAndRegenerate = (regenerate: boolean): { val: ValidationResult; regenS: number; validS: number } => {
    if (fused && regenerate) {
      const t0 = performance.now();
      const f = fused(model, { users, picker, out: candidates });
      candidateLabels(data.train, users, candidates, K, labels);
      const all = (performance.now() - t0) / 1000;
      return { val: f.result, regenS: f.regenS, validS: Math.max(0, all - f.regenS) };
    }
    const tRegen = performance.now();
    if (regenerate) makeCandidates();
    const regenS = (performance.now() - tRegen) / 1000;
    const tValid = performance.now();
    const val = opts.validate(model);
    return { val, regenS, validS: (performance.now() - tValid) / 1000 };
  };

  const writeResume = (): void => {
    const tensors = new Map<string, SafeTensor>();
    const os = optimizer.state();
    for (const p of params) {
      tensors.set(`param/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: p.value });
      tensors.set(`opt_m/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: os.buffers[p.name]!.m! });
      tensors.set(`opt_v/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: os.buffers[p.name]!.v! });
    }
    tensors.set('candidates', { dtype: 'I32', shape: [nTrain, K], data: candidates });
    const meta: ResumeMeta = {
      version: RESUME_VERSION, epoch: st.epoch, config: cfg, modelType: model.type, trainUsers: nTrain,
      optimizer: { step: os.step, lr: os.lr }, schedule: schedule.state(), rng: rng.state(),
      best: st.best, initial: st.initial, last: st.last, lastImprovementEpoch: st.lastImprovementEpoch,
      improvementCounter: st.improvementCounter, identicalCounter: st.identicalCounter, stopReason: st.stopReason,
    };
    journal.writeResume(tensors, { calitune_resume: JSON.stringify(meta) });
  };

  const resumePath = journal.resumeName;
  if (opts.resume && journal.hasResume()) {
    const file = journal.readResume();
    let meta: ResumeMeta;
    try { meta = JSON.parse(file.metadata.calitune_resume ?? '') as ResumeMeta; } catch {
      throw new UserError('not a CaliTune resume state (metadata missing)', resumePath);
    }
    if (meta.version !== RESUME_VERSION) throw new UserError(`resume state version ${meta.version} is not supported`, resumePath);
    // A key missing from an older resume state had its default value then.
    const was = (k: string): unknown => (meta.config as Record<string, unknown>)[k] ?? (DEFAULT_FINETUNE_CONFIG as Record<string, unknown>)[k];
    const diff = Object.keys(cfg).filter((k) => !CONFIG_KEYS_FREE_ON_RESUME.has(k) &&
      JSON.stringify((cfg as Record<string, unknown>)[k]) !== JSON.stringify(was(k)));
    if (diff.length) throw new UserError(`cannot resume with a different configuration: ${diff.map((k) => `${k} (${JSON.stringify(was(k))} → ${JSON.stringify((cfg as Record<string, unknown>)[k])})`).join(', ')}`, resumePath);
    if (meta.modelType !== model.type || meta.trainUsers !== nTrain) throw new UserError(`resume state is for a ${meta.modelType} model with ${meta.trainUsers} training users`, resumePath);
    const buffers: Record<string, Record<string, Float32Array>> = {};
    for (const p of params) {
      const get = (n: string): Float32Array => {
        const t = file.tensors.get(n);
        if (!t || !(t.data instanceof Float32Array) || t.data.length !== p.value.length) throw new UserError(`resume state lacks tensor ${n} of ${p.value.length} values`, resumePath);
        return t.data;
      };
      p.value.set(get(`param/${p.name}`));
      buffers[p.name] = { m: get(`opt_m/${p.name}`), v: get(`opt_v/${p.name}`) };
    }
    optimizer.loadState({ kind: 'radam', step: meta.optimizer.step, lr: meta.optimizer.lr, buffers });
    schedule.loadState(meta.schedule);
    rng = Rng.fromState(meta.rng);
    const c = file.tensors.get('candidates');
    if (!c || !(c.data instanceof Int32Array) || c.data.length !== nTrain * K) throw new UserError('resume state lacks the candidates', resumePath);
    candidates = Int32Array.from(c.data);
    candidateLabels(data.train, users, candidates, K, labels);
    Object.assign(st, {
      epoch: meta.epoch, best: meta.best, initial: meta.initial, last: meta.last, lastImprovementEpoch: meta.lastImprovementEpoch,
      improvementCounter: meta.improvementCounter, identicalCounter: meta.identicalCounter,
      stopReason: meta.stopReason === 'interrupted' ? null : meta.stopReason,
    });
    history = journal.readLog(st.epoch);
    journal.writeLog(history);
    opts.sink?.rollbackTo?.(st.epoch);
  } else {
    if (!opts.resume && journal.hasResume()) {
      throw new InputError((n) => `this run folder already holds a fine-tuning run: resume it with ${n.option('resume')} or use a new name`,
        { field: 'resume', file: journal.where });
    }
    opts.sink?.rollbackTo?.(0);
    const { val: v0, validS, regenS } = validateAndRegenerate(true);
    st.initial = { validNdcg: v0.validNdcg, jsd: v0.jsd };
    const rec0: EpochLogRecord = {
      epoch: 0, lr: optimizer.lr, acc_loss: null, cal_loss: null, valid_ndcg: v0.validNdcg, jsd: v0.jsd,
      tradeoff: tradeoffScore(v0.validNdcg, v0.jsd, v0.validNdcg, v0.jsd), improved: [], checkpoint: false,
      train_s: 0, regen_s: regenS, valid_s: validS,
    };
    journal.writeLog([rec0]);
    history = [rec0];
    opts.onEpoch?.(rec0);
    writeResume();
  }

  // Batch buffers.
  const maxB = Math.min(cfg.train_batch_size, nTrain);
  const bUsers = new Int32Array(maxB);
  const bCand = new Int32Array(maxB * K);
  const bPos = new Uint8Array(maxB * K);
  const bGroups = new Int32Array(maxB * K);
  const bTargets = new Float64Array(maxB * G);
  const dScores = new Float32Array(maxB * K);
  const loss = new CaliTuneLoss();
  const nativeAcc = typeof model.nativeAccuracyLoss === 'function';

  while (st.stopReason === null && st.epoch < cfg.num_epochs) {
    if (opts.stopAfterEpoch !== undefined && st.epoch >= opts.stopAfterEpoch) { st.stopReason = 'interrupted'; break; }
    const epoch = st.epoch + 1;
    const lr = optimizer.lr;
    // ---- train
    const tTrain = performance.now();
    const perm = rng.permutation(nTrain);
    let accSum = 0, calSum = 0, nBatches = 0;
    for (let start = 0; start < nTrain; start += cfg.train_batch_size) {
      const B = Math.min(cfg.train_batch_size, nTrain - start);
      for (let b = 0; b < B; b++) {
        const row = perm[start + b]!;
        const u = users[row]!;
        bUsers[b] = u;
        for (let c = 0; c < K; c++) {
          const item = candidates[row * K + c]!;
          bCand[b * K + c] = item;
          bPos[b * K + c] = labels[row * K + c]!;
          bGroups[b * K + c] = data.itemGroups[item]!;
        }
        for (let g = 0; g < G; g++) bTargets[b * G + g] = data.userTargets[u * G + g]!;
      }
      if (!gradsSelfZeroing || nBatches === 0) model.zeroGrad();
      const scores = model.forwardCandidates(bUsers.subarray(0, B), bCand.subarray(0, B * K), K);
      // A model with its own accuracy loss (MultiVAE) replaces the listwise accuracy term.
      const ownAcc = nativeAcc && alpha < 1;
      const v = loss.forward({
        B, K, G, scores, positives: bPos.subarray(0, B * K), groups: bGroups.subarray(0, B * K),
        targets: bTargets.subarray(0, B * G), alpha, skipAccuracy: ownAcc,
      });
      if (ownAcc) {
        // value and (1 − α)-scaled gradients in one pass; a non-finite value still stops below
        // before any update (gradients are only applied by optimizer.step)
        v.accuracy = model.nativeAccuracyLoss!(bUsers.subarray(0, B), { scale: 1 - alpha, grad: true });
        v.total += (1 - alpha) * v.accuracy;
      }
      if (!Number.isFinite(v.total)) {
        const ck = opts.sink?.epochs?.() ?? [];
        throw new UserError(
          `fine-tuning diverged in epoch ${epoch}: the loss is ${v.total} (accuracy ${v.accuracy}, calibration ${v.calibration}); ` +
          `stopped before the update. The last good checkpoint is ${ck.length ? `epoch ${ck[ck.length - 1]}` : 'none'} and the resume state is at epoch ${st.epoch}. ` +
          'Try a lower learning_rate.',
        );
      }
      accSum += v.accuracy;
      calSum += v.calibration;
      nBatches++;
      if (alpha > 0 || !ownAcc) {
        loss.backward(dScores);
        model.backwardCandidates(dScores.subarray(0, B * K));
      }
      optimizer.step(rowHints ? params.map((p) => rowHints.candidateGradRows(p.name)) : undefined);
    }
    optimizer.flush();
    if (cfg.schedule_lr) schedule.step();
    const trainS = (performance.now() - tTrain) / 1000;
    // ---- candidates + validation (one scoring pass when fused)
    const { val, regenS, validS } = validateAndRegenerate(cfg.regenerate_candidates);
    const trade = tradeoffScore(val.validNdcg, val.jsd, st.initial.validNdcg, st.initial.jsd);
    // ---- selection (the reference's rules)
    const tm = cfg.target_metric;
    const improved: string[] = [];
    if ((tm === 'ndcg' || tm === 'any') && val.validNdcg > st.best.ndcg) { st.best.ndcg = val.validNdcg; improved.push('ndcg'); }
    if ((tm === 'pop_jsd' || tm === 'any') && val.jsd < st.best.jsd) { st.best.jsd = val.jsd; improved.push('pop_jsd'); }
    if ((tm === 'tradeoff' || tm === 'any') && trade !== null && trade > st.best.tradeoff) { st.best.tradeoff = trade; improved.push('tradeoff'); }
    if (improved.length) { st.lastImprovementEpoch = epoch; st.improvementCounter += improved.length; }
    let saved = false;
    if (cfg.model_save_interval > 0 && st.improvementCounter >= cfg.model_save_interval) {
      if (opts.sink) {
        const tensors: NamedTensor[] = params.map((p) => ({ name: p.name, shape: [...p.shape], data: p.value.slice() }));
        opts.sink.onImprovement(epoch, tensors, { epoch, validNdcg: val.validNdcg, jsd: val.jsd, tradeoff: trade ?? NaN },
          { valid: val.validLists, test: val.testLists, k: cfg.top_k_ndcg });
        saved = true;
      }
      st.improvementCounter = 0;
    }
    if (Math.abs(val.validNdcg - st.last.validNdcg) < 1e-6 && Math.abs(val.jsd - st.last.jsd) < 1e-6) st.identicalCounter++;
    else st.identicalCounter = 0;
    st.last = { validNdcg: val.validNdcg, jsd: val.jsd };
    st.epoch = epoch;
    if (st.identicalCounter >= 3) st.stopReason = 'identical_metrics';
    else if (epoch - st.lastImprovementEpoch >= cfg.early_stopping_patience) st.stopReason = 'early_stopping';
    else if (epoch >= cfg.num_epochs) st.stopReason = 'max_epochs';
    const rec: EpochLogRecord = {
      epoch, lr, acc_loss: alpha < 1 ? accSum / nBatches : null, cal_loss: alpha > 0 ? calSum / nBatches : null,
      valid_ndcg: val.validNdcg, jsd: val.jsd, tradeoff: trade, improved, checkpoint: saved,
      train_s: trainS, regen_s: regenS, valid_s: validS,
    };
    journal.appendLog(rec);
    history.push(rec);
    writeResume();
    opts.onEpoch?.(rec);
  }
  if (st.stopReason === null) st.stopReason = 'max_epochs';

  const ckEpochs = opts.sink?.epochs?.() ?? history.filter((r) => r.checkpoint).map((r) => r.epoch);
  const lastRec = history[history.length - 1]!;
  const summary: FinetuneSummary = {
    epochsRun: st.epoch,
    stopReason: st.stopReason,
    initial: st.initial,
    final: { validNdcg: lastRec.valid_ndcg, jsd: lastRec.jsd, tradeoff: lastRec.tradeoff },
    targetMetric: cfg.target_metric,
    selected: selectEpochs(history, ckEpochs),
    checkpointEpochs: ckEpochs,
    trainableTensors: params.map((p) => p.name),
    trainUsers: nTrain,
  };
  if (st.stopReason !== 'interrupted') journal.writeSummary(summary);
  model.setItemsFrozen?.(false);
  return summary;
}
