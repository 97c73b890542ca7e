/**
 * Which weights to serve: the run's backbone, or a CaliTune checkpoint overlaid on it (a
 * checkpoint stores only the tensors fine-tuning changed). The checkpoint is picked by epoch
 * or by the experiment's validation-selected epoch for a selection mode.
 */
import { existsSync } from 'node:fs';
import { loadRunData } from '../store/run.js';
import { modelPaths } from '../store/model-files.js';
import { experimentPaths } from '../store/experiment-files.js';
import { readExperimentSummary } from '../store/experiment-json.js';
import '../models/all.js';
import { loadModel } from '../models/model-file.js';
import { readSafetensors } from '../models/safetensors.js';
import { USER_ADAPTER_TENSOR, type Recommender } from '../models/recommender.js';
import type { SplitDataset } from '../data/types.js';
import { InputError, UserError } from '../util/errors.js';
import { CheckpointStore } from '../store/checkpoint-store.js';
import { modelForCheckpoint } from '../calibration/group-offsets.js';
import { SELECTION_MODES, type SelectionMode } from '../selection/modes.js';

export { SELECTION_MODES };

type ExperimentPaths = ReturnType<typeof experimentPaths>;
/** A selection mode whose validation-selected epoch can be served. */
export type ServeSelection = SelectionMode;

/** A model ready to serve, with the run's split and a label saying what it is. */
export interface ServingModel {
  model: Recommender;
  ds: SplitDataset;
  /** Human label, e.g. "bpr base" or "bpr + CaliTune c0.5 epoch 184". */
  label: string;
  experiment?: string;
  epoch?: number;
}

/** The run's backbone, or a kept checkpoint of an experiment (by epoch or selection mode) overlaid on it. */
export function loadServingModel(
  run: string,
  opts: { experiment?: string; epoch?: number; mode?: ServeSelection } = {},
): ServingModel {
  if (opts.experiment === undefined && (opts.epoch !== undefined || opts.mode !== undefined)) {
    const field = opts.epoch !== undefined ? 'epoch' : 'mode';
    throw new InputError((n) => `${n.option('epoch')} and ${n.option('mode')} need ${n.option('experiment')}`, {
      field,
    });
  }
  const { info, ds } = loadRunData(run);
  const modelDir = modelPaths(run).dir;
  const { model: backbone, sidecar } = loadModel(modelDir, undefined, { train: ds.train });
  if (sidecar.data_fingerprint !== undefined && sidecar.data_fingerprint !== info.fingerprint) {
    throw new UserError(`the model in ${modelDir} was trained on other data than this run's split`);
  }
  if (opts.experiment === undefined) {
    return { model: backbone, ds, label: `${sidecar.model_type} base` };
  }
  const experiment = opts.experiment;
  const ep = experimentPaths(run, experiment);
  const dir = ep.dir;
  if (!existsSync(dir)) throw new UserError(`no experiment '${experiment}' in ${run} (expected ${dir})`);
  const epoch = opts.epoch ?? selectedEpoch(ep, experiment, opts.mode ?? 'any');
  const model = overlayCheckpoint(backbone, checkpointWeightsPath(ep, experiment, epoch));
  return {
    model,
    ds,
    label: `${sidecar.model_type} + CaliTune ${experiment} epoch ${epoch}`,
    experiment,
    epoch,
  };
}

/** The epoch an experiment's summary selected on validation for a mode (the experiment must have finished). */
function selectedEpoch(ep: ExperimentPaths, experiment: string, mode: ServeSelection): number {
  const summaryPath = ep.summary;
  if (!existsSync(summaryPath)) {
    throw new InputError(
      (n) => `experiment '${experiment}' has not finished (no summary.json): give ${n.option('epoch')} N`,
      { field: 'epoch', file: ep.dir },
    );
  }
  const summary = readExperimentSummary(summaryPath)!;
  const sel = summary.selected?.[mode];
  if (!sel)
    throw new UserError(`experiment '${experiment}' has no validation-selected epoch for mode '${mode}'`, summaryPath);
  return sel.epoch;
}

/** The weights file of a kept checkpoint; an InputError listing the epochs with weights when it has none. */
function checkpointWeightsPath(ep: ExperimentPaths, experiment: string, epoch: number): string {
  const store = new CheckpointStore(ep.checkpoints);
  const weightsPath = store.weightsPath(epoch);
  if (weightsPath === undefined) {
    const withWeights = store
      .records()
      .filter((r) => r.weights)
      .map((r) => r.epoch);
    throw new InputError(
      (n) =>
        `epoch ${epoch} of '${experiment}' has no stored weights ` +
        `(epochs with weights: ${withWeights.join(', ') || 'none'}; ` +
        `fine-tune with ${n.option('keep')} all to keep every epoch)`,
      { field: 'epoch' },
    );
  }
  return weightsPath;
}

/**
 * The backbone with a checkpoint's tensors set (enabling the user adapter when it holds one); a
 * checkpoint fine-tuned with group offsets holds a wider BPR model, built here to take them.
 */
function overlayCheckpoint(backbone: Recommender, weightsPath: string): Recommender {
  const file = readSafetensors(weightsPath);
  const model = modelForCheckpoint(backbone, file.tensors);
  // A checkpoint fine-tuned with user_adapter holds the adapter: the model needs it to score.
  if (file.tensors.has(USER_ADAPTER_TENSOR)) {
    if (typeof model.enableUserAdapter !== 'function')
      throw new UserError(`checkpoint has a user adapter, the ${model.type} model cannot take one`, weightsPath);
    model.enableUserAdapter();
  }
  const params = new Map(model.parameters().map((p) => [p.name, p]));
  for (const [name, t] of file.tensors) {
    const p = params.get(name);
    if (!p)
      throw new UserError(`checkpoint tensor '${name}' is not a parameter of the ${model.type} model`, weightsPath);
    if (t.data.length !== p.value.length || !(t.data instanceof Float32Array)) {
      throw new UserError(
        `checkpoint tensor '${name}' has ${t.data.length} values, the model ${p.value.length}`,
        weightsPath,
      );
    }
    p.value.set(t.data);
  }
  return model;
}
