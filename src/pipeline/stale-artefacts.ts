/**
 * After a new backbone (train, import): a note naming what was derived from the old one and is
 * stale now — evaluate refuses it until the step that renews it runs (docs/architecture.md,
 * "Provenance").
 */
import { experimentFolderNames } from '../store/experiment-files.js';
import { postprocessPaths, staleCpInputs, storedCpLambdas } from '../store/postprocess-files.js';
import { experimentInputs, staleInputs } from '../store/provenance.js';
import type { Reporter } from './reporter.js';

/**
 * Warns about the CP set and the experiments whose recorded backbone is no longer the run's
 * (nothing when the new weights equal the old ones, or nothing was derived).
 */
export function noteStaleDerivedArtefacts(run: string, reporter: Reporter): void {
  const hasCp = storedCpLambdas(run, 'test').length > 0 || storedCpLambdas(run, 'valid').length > 0;
  const staleCp = hasCp && staleCpInputs(run).includes('backbone');
  const experiments = experimentFolderNames(run)
    .filter((name) => staleInputs(run, experimentInputs(run, name)).includes('backbone'))
    .sort();
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
