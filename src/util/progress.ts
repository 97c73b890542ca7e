/**
 * Progress for long work: a redrawn bar on a terminal, plain lines otherwise (CI, pipes).
 * Always on stderr, so `--json` output on stdout stays machine-readable.
 */
export interface ProgressOptions {
  /** Force plain lines (e.g. tests); default: plain unless stderr is a TTY. */
  plain?: boolean;
  /** Suppress all output. */
  silent?: boolean;
  /** Minimum seconds between plain lines (the last step always prints). */
  plainInterval?: number;
  stream?: NodeJS.WriteStream;
}

/** A progress bar on stderr: redrawn in place on a terminal, throttled plain lines otherwise. */
export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly start = Date.now();
  private lastPlain = 0;
  private current = 0;
  private ended = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = !opts.plain && Boolean(this.stream.isTTY) && process.env.CI !== 'true';
  }

  /** Sets the position to `done` (of total) with an optional status text. */
  update(done: number, status = ''): void {
    if (this.opts.silent || this.ended) return;
    this.current = done;
    const elapsed = (Date.now() - this.start) / 1000;
    if (this.tty) {
      const width = 24;
      const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
      const fill = Math.round(frac * width);
      const eta = done > 0 && done < this.total ? ` eta ${fmtSeconds((elapsed / done) * (this.total - done))}` : '';
      const bar = `${'#'.repeat(fill)}${'.'.repeat(width - fill)}`;
      const line = `${this.label} [${bar}] ${done}/${this.total} ${status}${eta}`;
      const cols = this.stream.columns ?? 120;
      this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 8))}`);
    } else {
      const interval = (this.opts.plainInterval ?? 5) * 1000;
      const now = Date.now();
      if (done >= this.total || now - this.lastPlain >= interval || this.lastPlain === 0) {
        this.lastPlain = now;
        this.stream.write(`${this.label}: ${done}/${this.total} ${status} (${fmtSeconds(elapsed)})\n`);
      }
    }
  }

  /** Finishes the bar (a newline on a terminal) with an optional closing message. */
  done(message?: string): void {
    if (this.opts.silent || this.ended) return;
    this.ended = true;
    if (this.tty) this.stream.write('\n');
    if (message) this.stream.write(`${this.label}: ${message}\n`);
    void this.current;
  }
}

/** Seconds as `12.3s` below a minute, else `4m05s`. */
export function fmtSeconds(s: number): string {
  if (s < 59.95) return `${s.toFixed(1)}s`;
  const total = Math.round(s);
  const m = Math.floor(total / 60);
  return `${m}m${(total - 60 * m).toString().padStart(2, '0')}s`;
}
