/**
 * The run store: the only module that knows the run directory's file names and layout
 * (README, "Run directory"). One file per part of the run:
 *   run.ts                run.json and the split (data/)
 *   model-files.ts        model/ (weights and sidecar via src/models/model-file.ts; training log)
 *   base-files.ts         lists/base_{valid,test}.npy, results/base_model.json
 *   prepare-files.ts      prepare/
 *   postprocess-files.ts  postprocess/ (one complete CP set)
 *   provenance.ts         fingerprints of a derived artefact's inputs
 *   results-provenance.ts what results files were computed from, checked by their readers
 *   folder-sets.ts        folders written whole into a temp sibling and swapped in (model, prepare, CP set)
 *   experiment-name.ts    the experiment-name rule
 *   experiment-files.ts   experiments/NAME/ (config, experiment, summary, resume, log names)
 *   epoch-log.ts          experiments/NAME/log.jsonl (the one reader and writer)
 *   finetune-journal.ts   the fine-tuner's files of an experiment
 *   resume-prune.ts       removing a completed experiment's resume state (resume-pruned.json)
 *   checkpoint-files.ts   experiments/NAME/checkpoints/ (folders and index)
 *   checkpoint-store.ts   CheckpointStore, the fine-tuner's checkpoint writer
 *   stored-experiment.ts  findExperiment: an experiment's stored epochs for evaluation
 *   results-files.ts      results/NAME.json (the one strict reader) and NAME_per_user.tsv
 *   registry-files.ts     registry.sqlite, grid/configs/
 *   run-locks.ts          .locks/: who may write to the run at once (lock-files.ts: one lock file)
 *   run-cleanup.ts        what killed writers left, removed by the run lock's holder
 *   list-files.ts         recommendation lists as .npy
 *   json-files.ts         JSON / JSON-lines reading with errors naming file and line
 *   unfinished-writes.ts  temp files of interrupted atomic writes
 */
export * from './run.js';
export * from './model-files.js';
export * from './base-files.js';
export * from './prepare-files.js';
export * from './postprocess-files.js';
export * from './provenance.js';
export * from './results-provenance.js';
export * from './folder-sets.js';
export * from './experiment-name.js';
export * from './experiment-files.js';
export * from './epoch-log.js';
export * from './finetune-journal.js';
export * from './resume-prune.js';
export * from './checkpoint-files.js';
export * from './checkpoint-store.js';
export * from './stored-experiment.js';
export * from './results-files.js';
export * from './registry-files.js';
export * from './list-files.js';
export * from './unfinished-writes.js';
export * from './lock-files.js';
export * from './run-locks.js';
export * from './run-cleanup.js';
export * from './json-files.js';
