/**
 * Reproducible ASHA decisions for trials that run side by side. ASHA's answer at a rung depends
 * on which trials reached that rung before (asha.ts); with parallel workers the order in which
 * trials arrive depends on timing. Here a rung's reports reach the scheduler in trial order
 * (the sampling order), whatever order they arrive in: the report of trial i at rung k is held
 * until every trial before i has either reported at rung k or ended without reaching it
 * (stopped at an earlier rung, stopped early by its own patience, capped, or failed). The
 * decisions are then exactly those of running the trials one after another, so the same seed
 * gives the same decisions for any number of workers, and a resumed search (whose finished
 * trials are replayed here) the same decisions as an uninterrupted one.
 *
 * No deadlock: trials start in trial order, so the lowest-numbered unfinished trial has every
 * trial before it ended, and its reports are decided at once. A held trial waits (its worker
 * idles) until the trials before it catch up.
 */
import type { Decision, TrialScheduler } from './asha.js';

/** A decision that became known: trial `trial` (its index) at rung `rung` (its index). */
export interface RungDecision {
  trial: number;
  rung: number;
  decision: Decision;
}

/** Feeds a scheduler the reports of trials at rungs in trial order (see the file comment). */
export class OrderedDecisions {
  /** Per rung: the index of the next trial whose report the scheduler takes. */
  private readonly next: number[];
  /** Per rung: trial index → metric reported there, not yet given to the scheduler. */
  private readonly held: Array<Map<number, number>>;
  /** Trial index → the number of epochs it ended at (it reaches no rung beyond). */
  private readonly ended = new Map<number, number>();

  /**
   * `rungs` are the rung epochs of `scheduler` (none for the plain scheduler); `name(i)` names
   * trial i for the scheduler.
   */
  constructor(
    private readonly scheduler: TrialScheduler,
    private readonly rungs: readonly number[],
    private readonly name: (trial: number) => string,
  ) {
    this.next = rungs.map(() => 0);
    this.held = rungs.map(() => new Map());
  }

  /** Trial `trial` reached rung index `rung` with `metric` (NaN: worst). Returns the decisions now known. */
  report(trial: number, rung: number, metric: number): RungDecision[] {
    const held = this.held[rung];
    if (held === undefined) throw new RangeError(`no rung ${rung} (rungs: ${this.rungs.join(', ')})`);
    if (trial < this.next[rung]! || held.has(trial)) throw new Error(`trial ${trial} reported rung ${rung} twice`);
    held.set(trial, metric);
    return this.flush();
  }

  /** Trial `trial` ended after `epochs` epochs: it reaches no later rung. Returns the decisions now known. */
  end(trial: number, epochs: number): RungDecision[] {
    this.ended.set(trial, epochs);
    return this.flush();
  }

  /** Gives the scheduler every report whose turn has come, rung by rung. */
  private flush(): RungDecision[] {
    const out: RungDecision[] = [];
    this.rungs.forEach((epochs, k) => {
      const held = this.held[k]!;
      for (;;) {
        const i = this.next[k]!;
        const metric = held.get(i);
        if (metric !== undefined) {
          held.delete(i);
          out.push({ trial: i, rung: k, decision: this.scheduler.onReport(this.name(i), epochs, metric) });
        } else if (!((this.ended.get(i) ?? Infinity) < epochs)) {
          break; // trial i may still reach this rung: later trials wait for it
        }
        this.next[k] = i + 1;
      }
    });
    return out;
  }
}
