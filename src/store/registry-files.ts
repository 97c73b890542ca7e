/**
 * Where the grid / experiments runner keeps its state in a run:
 *   RUN/registry.sqlite           the run registry (src/experiments/registry.ts)
 *   RUN/grid/configs/NAME.json    each point's resolved fine-tuning configuration
 *   RUN/grid.lock                 the pid of the process running a grid on the run
 */
import { join } from 'node:path';

export const REGISTRY_FILE = 'registry.sqlite';

export function registryPath(run: string): string {
  return join(run, REGISTRY_FILE);
}

export function gridConfigsDir(run: string): string {
  return join(run, 'grid', 'configs');
}

export function gridConfigPath(run: string, name: string): string {
  return join(gridConfigsDir(run), `${name}.json`);
}

export function gridLockPath(run: string): string {
  return join(run, 'grid.lock');
}
