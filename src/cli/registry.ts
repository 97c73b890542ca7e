import type { Command } from './command.js';
import { trainCommand } from './commands/train.js';
import { evaluateCommand } from './commands/evaluate.js';
import { importCommand } from './commands/import.js';
import { dataStatsCommand } from './commands/data-stats.js';
import { fetchCommand } from './commands/fetch.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';

export function commands(): Command[] {
  return [demoCommand, fetchCommand, dataStatsCommand, trainCommand, evaluateCommand, importCommand, doctorCommand];
}
