/** The run's backbone, loaded and checked against the run's split. */
// Every model type registers itself on import: a run's model may be of any of them.
import '../models/all.js';
import { loadModel, type LoadedModel } from '../models/model-file.js';
import type { RunInfo } from '../store/run.js';
import { modelPaths } from '../store/model-files.js';
import type { SplitDataset } from '../data/types.js';
import { UserError } from '../util/errors.js';

/**
 * Loads RUN/model for the run's data; a model trained on other data or of other size is bad
 * input. `noun` words the messages ('the model' / 'the backbone', as each step says it).
 */
export function loadRunModel(run: string, info: RunInfo, ds: SplitDataset, noun: 'model' | 'backbone'): LoadedModel {
  const dir = modelPaths(run).dir;
  const loaded = loadModel(dir, undefined, { train: ds.train });
  const { model, sidecar } = loaded;
  if (sidecar.data_fingerprint !== undefined && sidecar.data_fingerprint !== info.fingerprint) {
    throw new UserError(`the ${noun} in ${dir} was trained on other data than this run's split`);
  }
  if (model.nUsers !== ds.nUsers || model.nItems !== ds.nItems) {
    const what = noun === 'model' ? 'model' : 'the backbone';
    const sizes = `${model.nUsers}×${model.nItems} users×items, the run ${ds.nUsers}×${ds.nItems}`;
    throw new UserError(`${what} has ${sizes}`);
  }
  return loaded;
}
