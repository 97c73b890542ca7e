/** Inputs a careful user might feed by mistake or malice: FIFOs, alias bombs, binary text. */
import { execFileSync } from 'node:child_process';

/** Nine levels of nine aliases each: 9^9 leaves once expanded (a YAML "billion laughs"). */
export function aliasBomb(): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let l = 1; l < 9; l++)
    lines.push(
      `a${l}: &a${l} [${Array(9)
        .fill(`*a${l - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

/** Creates a FIFO at `path`: reading it without a writer blocks forever unless refused. */
export function makeFifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}
