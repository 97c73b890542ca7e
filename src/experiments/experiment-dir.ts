// Moved to src/store; re-exported while callers move.
export { CONFIG_FILE, EXPERIMENT_FILE, experimentPaths } from '../store/experiment-files.js';
