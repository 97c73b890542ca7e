import type { Command } from './command.js';
import { trainCommand } from './commands/train.js';
import { evaluateCommand } from './commands/evaluate.js';
import { importCommand } from './commands/import.js';
import { dataStatsCommand } from './commands/data-stats.js';

export function commands(): Command[] {
  return [dataStatsCommand, trainCommand, evaluateCommand, importCommand];
}
