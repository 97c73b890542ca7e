// Moved to src/store; re-exported while callers move.
export { RUN_FORMAT_VERSION, createRun, loadRunData, readRunInfo, runPaths, type RunInfo } from '../store/run.js';
