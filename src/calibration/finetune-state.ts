/**
 * The state of a fine-tuning and its creation (docs/numeric-contract.md §10): the training
 * users, the trainable tensors and their optimizer and learning-rate schedule, the seeded RNG,
 * the current candidates and their labels, and the selection progress (running bests,
 * counters, stop reason). Everything here is what one finished epoch leaves behind; the resume
 * state (src/calibration/finetune-resume.ts) saves and restores exactly this.
 */
import type { Recommender } from '../models/recommender.js';
import type { Parameter } from '../nn/parameter.js';
import type { Csr } from '../math/csr.js';
import { Rng } from '../math/rng.js';
import { RowSparseRAdam } from '../nn/row-sparse-radam.js';
import { StepLR } from '../nn/lr-schedule.js';
import { CandidatePicker } from './candidates.js';
import { calibrationAlpha, type FinetuneConfig } from './finetune-config.js';
import { UserError } from '../util/errors.js';
import { groupOffsetParameters } from './group-offsets.js';
import type { CandidateGradRows, FinetuneData, StopReason } from './finetune-types.js';

/** Users 1..n−1 with at least one train item, ascending. */
export function finetuneUsers(train: Csr): Int32Array {
  const out: number[] = [];
  for (let u = 1; u < train.nRows; u++) if (train.indptr[u + 1]! > train.indptr[u]!) out.push(u);
  return Int32Array.from(out);
}

/** `user_adapter: true` needs a model that has one (UserError otherwise, before anything is written). */
export function checkUserAdapter(model: Recommender, userAdapter: boolean): void {
  if (userAdapter && typeof model.enableUserAdapter !== 'function') {
    throw new UserError(
      `config key 'user_adapter': the ${model.type} model has none — it is for backbones without per-user ` +
        `parameters (DMF); ${model.type} fine-tunes its own user-side tensors`,
    );
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

function hasCandidateGradRows(m: unknown): m is CandidateGradRows {
  return typeof (m as Partial<CandidateGradRows>).candidateGradRows === 'function';
}

/**
 * Where selection stands after `epoch` (the reference's rules): running bests (starting at
 * NDCG 0, JSD 1, trade-off 0), epoch 0's metrics, the previous epoch's, and the counters of the
 * stop rules. Its key order is that of the resume state's metadata.
 */
export interface FinetuneProgress {
  /** The last finished epoch (0 = none yet). */
  epoch: number;
  best: { ndcg: number; jsd: number; tradeoff: number };
  initial: { validNdcg: number; jsd: number };
  last: { validNdcg: number; jsd: number };
  lastImprovementEpoch: number;
  improvementCounter: number;
  identicalCounter: number;
  stopReason: StopReason | null;
  /** How often the collapse guard has rolled the run back. */
  rollbacks: number;
}

/** Everything a fine-tuning works with between epochs; `progress`, `rng` and the arrays change. */
export interface FinetuneState {
  readonly model: Recommender;
  readonly config: FinetuneConfig;
  readonly data: FinetuneData;
  /** Weight of the calibration term (calibrationAlpha of the config). */
  readonly alpha: number;
  readonly picker: CandidatePicker;
  /** Candidates per user: k_candidates plus the per-group extras. */
  readonly width: number;
  /** The training users (finetuneUsers), one row of `candidates` each. */
  readonly users: Int32Array;
  readonly params: Parameter[];
  readonly optimizer: RowSparseRAdam;
  readonly schedule: StepLR;
  /**
   * Whether the optimizer leaves every gradient zero after its step, so the model's zeroGrad is
   * needed only before the first batch.
   */
  readonly gradsSelfZeroing: boolean;
  /** The model, when it can name the gradient rows of its last backward (and they can be trusted). */
  readonly rowHints: CandidateGradRows | undefined;
  rng: Rng;
  /** users.length × width candidate items. */
  readonly candidates: Int32Array;
  /** 1 where the candidate is a train item of its user. */
  readonly labels: Uint8Array;
  readonly progress: FinetuneProgress;
}

/** UserError when the data, the model and the configuration do not fit together. */
function checkFinetuneInputs(model: Recommender, cfg: FinetuneConfig, data: FinetuneData): void {
  const G = data.nGroups;
  const nItems = model.nItems;
  if (data.train.nRows !== model.nUsers) {
    throw new UserError(`train matrix has ${data.train.nRows} users, the model ${model.nUsers}`);
  }
  if (data.itemGroups.length !== nItems) {
    throw new UserError(`item groups cover ${data.itemGroups.length} items, the model has ${nItems}`);
  }
  if (data.userTargets.length !== model.nUsers * G) {
    throw new UserError(`user targets hold ${data.userTargets.length} values, expected ${model.nUsers}×${G}`);
  }
  if (cfg.k_candidates > nItems - 1) {
    throw new UserError(
      `config key 'k_candidates': ${cfg.k_candidates} is more than the ${nItems - 1} items of the dataset`,
    );
  }
  if (cfg.candidates_per_group > 0 && cfg.candidate_selection !== 'relevance') {
    throw new UserError(
      `config key 'candidates_per_group': ${cfg.candidates_per_group} applies to relevance candidates only ` +
        `(candidate_selection is '${cfg.candidate_selection}')`,
    );
  }
  const total = cfg.k_candidates + G * cfg.candidates_per_group;
  if (total > nItems - 1) {
    throw new UserError(
      `config keys 'k_candidates' + ${G} groups × 'candidates_per_group' = ${total} candidates, ` +
        `more than the ${nItems - 1} items of the dataset`,
    );
  }
}

/**
 * The state before fine-tuning (no epoch run, no candidates yet). Checks the inputs, enables
 * the user adapter when configured and tells the model whether its item tensors are frozen.
 */
export function createFinetuneState(model: Recommender, cfg: FinetuneConfig, data: FinetuneData): FinetuneState {
  const alpha = calibrationAlpha(cfg);
  checkFinetuneInputs(model, cfg, data);
  const picker = new CandidatePicker(
    model.nItems,
    cfg.k_candidates,
    cfg.candidates_per_group,
    data.itemGroups,
    data.nGroups,
  );
  const users = finetuneUsers(data.train);
  if (users.length === 0) throw new UserError('no user has train items: nothing to fine-tune');
  const params = groupOffsetParameters(model) ?? trainableParameters(model, cfg.freeze_item_emb, cfg.user_adapter);
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
  const width = picker.width;
  return {
    model,
    config: cfg,
    data,
    alpha,
    picker,
    width,
    users,
    params,
    optimizer,
    schedule,
    gradsSelfZeroing,
    rowHints,
    rng: new Rng(cfg.random_seed),
    candidates: new Int32Array(users.length * width),
    labels: new Uint8Array(users.length * width),
    progress: {
      epoch: 0,
      best: { ndcg: 0, jsd: 1, tradeoff: 0 },
      initial: { validNdcg: 0, jsd: 0 },
      last: { validNdcg: 0, jsd: 0 },
      lastImprovementEpoch: 0,
      improvementCounter: 0,
      identicalCounter: 0,
      stopReason: null,
      rollbacks: 0,
    },
  };
}
