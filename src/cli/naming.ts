/**
 * How error messages from the pipeline read on the command line: an option field becomes the
 * command's flag (its `optionFlags` entry, else the field in kebab-case: popularitySource →
 * --popularity-source) and a step becomes the command to run ('calitune prepare --run R').
 */
import type { Naming } from '../util/errors.js';
import type { Command } from './command.js';

function kebab(field: string): string {
  const last = field.slice(field.lastIndexOf('.') + 1);
  return last.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The flag that sets option `field` of a command (`--` and its kebab-case name unless mapped). */
export function flagOf(command: Command | undefined, field: string): string {
  return `--${command?.optionFlags?.[field] ?? kebab(field)}`;
}

/** Error-message naming for a command: option fields as its flags, steps as `calitune` command lines. */
export function cliNaming(command: Command, all: readonly Command[]): Naming {
  return {
    option: (field) => flagOf(command, field),
    step: (name, options = {}) => {
      const target = all.find((c) => c.name === name);
      const args = Object.entries(options).flatMap(([field, v]) =>
        v === true ? [flagOf(target, field)] : [flagOf(target, field), String(v)],
      );
      return ['calitune', name, ...args].join(' ');
    },
  };
}
