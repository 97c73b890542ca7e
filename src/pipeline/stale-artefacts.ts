/**
 * After a new backbone (train, import): a note naming what was derived from the old one and is
 * stale now — evaluate refuses it until the step that renews it runs (docs/architecture.md,
 * "Provenance").
 */
import { experimentFolderNames } from '../store/experiment-files.js';
import { postprocessPaths, staleCpInputs, storedCpLambdas } from '../store/postprocess-files.js';
import { experimentInputs, staleInputs } from '../store/provenance.js';
import { hasModel } from '../store/model-files.js';
import { InputError } from '../util/errors.js';
import type { Reporter } from './reporter.js';

/** What was derived from the run's current backbone: the CP set and the experiments (by name). */
function derivedArtefacts(run: string): { cp: boolean; experiments: string[] } {
  const cp = storedCpLambdas(run, 'test').length > 0 || storedCpLambdas(run, 'valid').length > 0;
  return { cp, experiments: experimentFolderNames(run).sort() };
}

/**
 * Before a new backbone replaces one with derived artefacts: an InputError (field `force`) unless
 * `force`, since the CP set and the experiments become stale (evaluate then refuses them).
 */
export function refuseToReplaceBackbone(run: string, force: boolean): void {
  if (force || !hasModel(run)) return;
  const d = derivedArtefacts(run);
  if (!d.cp && d.experiments.length === 0) return;
  const parts: string[] = [];
  if (d.cp) parts.push('the CP set');
  if (d.experiments.length > 0) parts.push(`${d.experiments.length} experiment(s)`);
  throw new InputError(
    (n) =>
      `${run} has ${parts.join(' and ')} derived from its backbone; a new backbone makes them stale ` +
      `(evaluate refuses them until renewed): give ${n.option('force')} to train anyway, or train into a new ` +
      `${n.option('run')}`,
    { field: 'force' },
  );
}

/**
 * Warns about the CP set and the experiments whose recorded backbone is no longer the run's
 * (nothing when the new weights equal the old ones, or nothing was derived).
 */
export function noteStaleDerivedArtefacts(run: string, reporter: Reporter): void {
  const derived = derivedArtefacts(run);
  const staleCp = derived.cp && staleCpInputs(run).includes('backbone');
  const experiments = derived.experiments.filter((name) =>
    staleInputs(run, experimentInputs(run, name)).includes('backbone'),
  );
  const parts: string[] = [];
  if (staleCp) parts.push(`the CP set in ${postprocessPaths(run).dir} (run postprocess again)`);
  if (experiments.length > 0) {
    const shown = experiments.slice(0, 5).join(', ') + (experiments.length > 5 ? ', …' : '');
    parts.push(`${experiments.length} experiment(s): ${shown} (fine-tune again under new names)`);
  }
  if (parts.length === 0) return;
  reporter.warn(
    `note: derived from the previous backbone and stale now, refused by evaluate until renewed: ${parts.join('; ')}`,
  );
}
