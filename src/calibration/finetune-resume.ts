/**
 * The resume state of a fine-tuning (resume.safetensors through the FinetuneJournal), written
 * after every finished epoch: tensors `param/NAME`, `opt_m/NAME`, `opt_v/NAME` per trainable
 * tensor and `candidates` (training users × candidates, I32), and the JSON metadata
 * `calitune_resume` (ResumeMeta: configuration, optimizer step and lr, schedule, RNG state,
 * selection progress). Restoring it makes the rest of the run equal an uninterrupted one bit
 * for bit (docs/numeric-contract.md §10).
 */
import { z } from 'zod';
import type { SafeTensor, SafeTensorsFile } from '../models/safetensors.js';
import type { StepLRState } from '../nn/lr-schedule.js';
import { Rng } from '../math/rng.js';
import { DEFAULT_FINETUNE_CONFIG, type FinetuneConfig } from './finetune-config.js';
import { UserError } from '../util/errors.js';
import { schemaProblem, wholeNumber } from '../util/json-schema.js';
import { candidateLabels } from './candidates.js';
import type { FinetuneState } from './finetune-state.js';
import type { FinetuneJournal, StopReason } from './finetune-types.js';

const RESUME_VERSION = 1;

/** The metadata's JSON; the key order is part of the file format. */
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
  /** Absent in states saved before the collapse guard existed (0 then). */
  rollbacks?: number;
}

/** Keys that may change between a run and its resumption. */
const CONFIG_KEYS_FREE_ON_RESUME = new Set(['num_epochs', 'early_stopping_patience']);

/**
 * The resume state as tensors and metadata (the optimizer is flushed first by state()). With
 * `copy` the arrays are copies, so the snapshot outlives further training (a rollback point).
 */
export function resumeSnapshot(state: FinetuneState, copy = false): SafeTensorsFile {
  const { params, optimizer, progress: st } = state;
  const tensors = new Map<string, SafeTensor>();
  // the live moments: a snapshot that must outlive training copies them below, once
  const os = optimizer.state(false);
  const own = <T extends Float32Array | Int32Array>(a: T): T => (copy ? (a.slice() as T) : a);
  for (const p of params) {
    tensors.set(`param/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: own(p.value) });
    tensors.set(`opt_m/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: own(os.buffers[p.name]!.m!) });
    tensors.set(`opt_v/${p.name}`, { dtype: 'F32', shape: [...p.shape], data: own(os.buffers[p.name]!.v!) });
  }
  const cand = own(state.candidates);
  tensors.set('candidates', { dtype: 'I32', shape: [state.users.length, state.width], data: cand });
  const meta: ResumeMeta = {
    version: RESUME_VERSION,
    epoch: st.epoch,
    config: state.config,
    modelType: state.model.type,
    trainUsers: state.users.length,
    optimizer: { step: os.step, lr: os.lr },
    schedule: state.schedule.state(),
    rng: state.rng.state(),
    best: st.best,
    initial: st.initial,
    last: st.last,
    lastImprovementEpoch: st.lastImprovementEpoch,
    improvementCounter: st.improvementCounter,
    identicalCounter: st.identicalCounter,
    stopReason: st.stopReason,
  };
  if (st.rollbacks > 0) meta.rollbacks = st.rollbacks;
  return { tensors, metadata: { calitune_resume: JSON.stringify(meta) } };
}

/** Writes the state after its last finished epoch. */
export function writeResumeState(journal: FinetuneJournal, state: FinetuneState): void {
  const snap = resumeSnapshot(state);
  journal.writeResume(snap.tensors, snap.metadata);
}

/** JSON numbers; null where JSON.stringify wrote a NaN or ±Infinity (an initial best, say). */
const metricsMeta = z.record(z.number().nullable());

/** The resume metadata as restoring uses it (other keys are kept); the version is checked first. */
const resumeMetaSchema = z
  .object({
    epoch: wholeNumber,
    config: z.record(z.unknown()),
    modelType: z.string(),
    trainUsers: wholeNumber,
    optimizer: z.object({ step: z.number(), lr: z.number() }).passthrough(),
    schedule: z.record(z.unknown()),
    rng: z.array(z.number()),
    best: metricsMeta,
    initial: metricsMeta.nullable().optional(),
    last: metricsMeta.nullable().optional(),
    lastImprovementEpoch: z.number().nullable(),
    improvementCounter: z.number(),
    identicalCounter: z.number(),
    stopReason: z.string().nullable(),
  })
  .passthrough();

function readResumeMeta(file: SafeTensorsFile, where: string): ResumeMeta {
  let meta: ResumeMeta;
  try {
    meta = JSON.parse(file.metadata.calitune_resume ?? '') as ResumeMeta;
  } catch {
    throw new UserError('not a CaliTune resume state (metadata missing)', where);
  }
  if (meta?.version !== RESUME_VERSION) {
    throw new UserError(`resume state version ${meta?.version} is not supported`, where);
  }
  const problem = schemaProblem(resumeMetaSchema, meta);
  if (problem !== undefined) throw new UserError(`resume metadata (calitune_resume) ${problem}`, where);
  return meta;
}

/** UserError unless the saved run is this one: same configuration (but the free keys), model and users. */
function checkResumeFits(meta: ResumeMeta, state: FinetuneState, where: string): void {
  const cfg = state.config as Record<string, unknown>;
  // A key missing from an older resume state had its default value then.
  const was = (k: string): unknown =>
    (meta.config as Record<string, unknown>)[k] ?? (DEFAULT_FINETUNE_CONFIG as Record<string, unknown>)[k];
  const diff = Object.keys(cfg).filter(
    (k) => !CONFIG_KEYS_FREE_ON_RESUME.has(k) && JSON.stringify(cfg[k]) !== JSON.stringify(was(k)),
  );
  if (diff.length) {
    const changes = diff.map((k) => `${k} (${JSON.stringify(was(k))} → ${JSON.stringify(cfg[k])})`).join(', ');
    throw new UserError(`cannot resume with a different configuration: ${changes}`, where);
  }
  if (meta.modelType !== state.model.type || meta.trainUsers !== state.users.length) {
    throw new UserError(`resume state is for a ${meta.modelType} model with ${meta.trainUsers} training users`, where);
  }
}

/** Loads weights and optimizer moments of every trainable tensor, then the optimizer's step and lr. */
function restoreTensors(file: SafeTensorsFile, meta: ResumeMeta, state: FinetuneState, where: string): void {
  const buffers: Record<string, Record<string, Float32Array>> = {};
  for (const p of state.params) {
    const get = (n: string): Float32Array => {
      const t = file.tensors.get(n);
      if (!t || !(t.data instanceof Float32Array) || t.data.length !== p.value.length) {
        throw new UserError(`resume state lacks tensor ${n} of ${p.value.length} values`, where);
      }
      return t.data;
    };
    p.value.set(get(`param/${p.name}`));
    buffers[p.name] = { m: get(`opt_m/${p.name}`), v: get(`opt_v/${p.name}`) };
  }
  state.optimizer.loadState({ kind: 'radam', step: meta.optimizer.step, lr: meta.optimizer.lr, buffers });
}

/**
 * Restores `state` (created for the same run) from a resume state: weights, optimizer,
 * schedule, RNG, candidates with their labels, and the selection progress. A run saved as
 * interrupted continues; UserError (naming `where`) when the saved state does not fit.
 */
export function restoreSnapshot(file: SafeTensorsFile, state: FinetuneState, where: string): void {
  const meta = readResumeMeta(file, where);
  checkResumeFits(meta, state, where);
  restoreTensors(file, meta, state, where);
  state.schedule.loadState(meta.schedule);
  state.rng = Rng.fromState(meta.rng);
  const c = file.tensors.get('candidates');
  if (!c || !(c.data instanceof Int32Array) || c.data.length !== state.candidates.length) {
    throw new UserError('resume state lacks the candidates', where);
  }
  state.candidates.set(c.data);
  candidateLabels(state.data.train, state.users, state.candidates, state.width, state.labels);
  Object.assign(state.progress, {
    epoch: meta.epoch,
    best: meta.best,
    initial: meta.initial,
    last: meta.last,
    lastImprovementEpoch: meta.lastImprovementEpoch,
    improvementCounter: meta.improvementCounter,
    identicalCounter: meta.identicalCounter,
    stopReason: meta.stopReason === 'interrupted' ? null : meta.stopReason,
    rollbacks: meta.rollbacks ?? 0,
  });
}

/** Restores `state` from the journal's resume state (see {@link restoreSnapshot}). */
export function restoreResumeState(journal: FinetuneJournal, state: FinetuneState): void {
  restoreSnapshot(journal.readResume(), state, journal.resumeName);
}
