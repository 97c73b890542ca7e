import type { Command } from './command.js';
import { reportCommand } from './commands/report.js';
import { trainCommand } from './commands/train.js';
import { evaluateCommand } from './commands/evaluate.js';
import { importCommand } from './commands/import.js';
import { dataStatsCommand } from './commands/data-stats.js';
import { dataSynthCommand } from './commands/data-synth.js';
import { fetchCommand } from './commands/fetch.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { prepareCommand } from './commands/prepare.js';
import { postprocessCommand } from './commands/postprocess.js';
import { compareCommand } from './commands/compare.js';
import { serveCommand } from './commands/serve.js';
import { finetuneCommand } from './commands/finetune.js';
import { gridCommand } from './commands/grid.js';
import { experimentsCommand } from './commands/experiments.js';
import { workerCommand } from './commands/worker.js';
import { tuneCommand } from './commands/tune.js';
import { runsListCommand, runsShowCommand, runsCompareCommand, runsFrontierCommand } from './commands/runs.js';
import { runsPruneCommand } from './commands/runs-prune.js';

/** Every CLI command, in the order `calitune --help` lists them. */
export function commands(): Command[] {
  return [
    demoCommand,
    fetchCommand,
    dataStatsCommand,
    dataSynthCommand,
    trainCommand,
    tuneCommand,
    evaluateCommand,
    importCommand,
    doctorCommand,
    prepareCommand,
    finetuneCommand,
    gridCommand,
    experimentsCommand,
    workerCommand,
    runsListCommand,
    runsShowCommand,
    runsCompareCommand,
    runsFrontierCommand,
    runsPruneCommand,
    postprocessCommand,
    compareCommand,
    serveCommand,
    reportCommand,
  ];
}
