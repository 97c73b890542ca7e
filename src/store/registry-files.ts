/**
 * Where the grid / experiments runner keeps its state in a run:
 *   RUN/registry.sqlite           the run registry (src/experiments/registry.ts)
 *   RUN/grid/configs/NAME.json    each point's resolved fine-tuning configuration
 * (The grid runner's lock: run-locks.ts.)
 */
import { join } from 'node:path';

/** The run's registry database. */
export const REGISTRY_FILE = 'registry.sqlite';

/** Path of the run's registry. */
export function registryPath(run: string): string {
  return join(run, REGISTRY_FILE);
}

/** Folder of the per-point configuration files of grids. */
export function gridConfigsDir(run: string): string {
  return join(run, 'grid', 'configs');
}

/** Path of one grid point's configuration file. */
export function gridConfigPath(run: string, name: string): string {
  return join(gridConfigsDir(run), `${name}.json`);
}
