/**
 * Imports every model module, so each registers its type with the model-file registry
 * (bpr, dmf, multivae, mostpop, random). Whatever loads saved models by their sidecar's type
 * imports this once: the CLI entry point (src/cli/main.ts), the trainers' dispatcher
 * (src/train/train-any.ts) and the serving loader. model-file.ts itself cannot import the
 * models (they import it to register — a cycle).
 */
import './model-file.js';
import './bpr.js';
import './dmf.js';
import './multivae.js';
import './baselines.js';

export { knownModelTypes } from './model-file.js';
