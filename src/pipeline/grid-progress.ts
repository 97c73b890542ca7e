/**
 * Live progress of a grid run on stderr: one redrawn line per worker on a terminal (point,
 * epoch, best valid NDCG / JSD so far, read from the point's epoch log), plain lines
 * otherwise, and lines that stay for points started, finished or failed.
 */
import { statSync } from 'node:fs';
import { fmtSeconds } from '../util/progress.js';
import { experimentPaths } from '../store/experiment-files.js';
import { readEpochLog } from '../store/epoch-log.js';
import type { EpochLogRecord } from '../calibration/finetuner.js';

/** One worker lane: the point it runs and what its epoch log says so far. */
export interface Slot {
  name: string | null;
  started: number;
  phase: string;
  epoch: number;
  maxEpochs: number;
  bestN: number;
  bestJ: number;
  logSize: number;
  lastPlain: number;
  /** What its lines are prefixed with (default: 'worker N', N its place in the list). */
  label?: string;
}

/** Live per-worker status of a running grid on stderr: a redrawn block on a TTY, plain lines otherwise. */
export class GridProgress {
  private readonly tty: boolean;
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  readonly start = Date.now();
  doneCount = 0;
  failedCount = 0;

  constructor(
    private readonly slots: Slot[],
    private readonly total: number,
    private readonly run: string,
    private readonly silent: boolean,
    plain: boolean | undefined,
    private readonly plainInterval: number,
  ) {
    this.tty = !plain && Boolean(process.stderr.isTTY) && process.env.CI !== 'true';
  }

  begin(): void {
    this.timer = setInterval(() => this.tick(), this.tty ? 250 : 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.pollLogs();
    if (this.tty && !this.silent) this.clear();
  }

  /** A line that stays (point started / finished / failed). */
  event(line: string): void {
    if (this.silent) return;
    if (this.tty) {
      this.clear();
      process.stderr.write(line + '\n');
      this.draw();
    } else process.stderr.write(line + '\n');
  }

  private tick(): void {
    this.pollLogs();
    if (this.silent) return;
    if (this.tty) {
      this.clear();
      this.draw();
      return;
    }
    const now = Date.now();
    this.slots.forEach((s, i) => {
      if (s.name === null || now - s.lastPlain < this.plainInterval * 1000) return;
      s.lastPlain = now;
      process.stderr.write(`[${s.label ?? `worker ${i + 1}`}] ${this.slotText(s)}\n`);
    });
  }

  private slotText(s: Slot): string {
    if (s.name === null) return 'idle';
    const el = fmtSeconds((Date.now() - s.started) / 1000);
    if (s.phase === 'evaluate') return `${s.name}: evaluating (${el})`;
    const best =
      s.bestN > -Infinity ? ` | best valid NDCG ${s.bestN.toFixed(4)} test-list JSD ${s.bestJ.toFixed(4)}` : '';
    return `${s.name}: epoch ${s.epoch}/${s.maxEpochs}${best} (${el})`;
  }

  private clear(): void {
    if (this.drawn > 0) process.stderr.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    const cols = process.stderr.columns ?? 120;
    const lines = [
      `grid ${this.run}: ${this.doneCount} done, ${this.failedCount} failed of ${this.total} ` +
        `(${fmtSeconds((Date.now() - this.start) / 1000)})`,
      ...this.slots.map((s, i) => `  [${s.label ?? i + 1}] ${this.slotText(s)}`),
    ];
    for (const l of lines) process.stderr.write(`${l.slice(0, cols - 1)}\n`);
    this.drawn = lines.length;
  }

  /** Reads the running points' epoch logs (the fine-tuner appends one line per epoch). */
  pollLogs(): void {
    for (const s of this.slots) {
      if (s.name === null || s.phase !== 'finetune') continue;
      const p = experimentPaths(this.run, s.name).log;
      let size: number;
      try {
        size = statSync(p).size;
      } catch {
        continue;
      }
      if (size === s.logSize) continue;
      s.logSize = size;
      // The store's one reader; a log being written (or replaced on resume) may fail to read: skip this poll.
      let records: EpochLogRecord[];
      try {
        records = readEpochLog(p);
      } catch {
        continue;
      }
      s.bestN = -Infinity;
      s.bestJ = Infinity;
      for (const r of records) {
        s.epoch = r.epoch;
        if (r.epoch < 1) continue;
        if (typeof r.valid_ndcg === 'number') s.bestN = Math.max(s.bestN, r.valid_ndcg);
        if (typeof r.jsd === 'number') s.bestJ = Math.min(s.bestJ, r.jsd);
      }
    }
  }
}
