import { existsSync } from 'node:fs';
import { readNpyMatrixI32 } from '../../data/npy.js';
import { findExperiment, readResults, resultsPaths, SELECTION_MODES, type SelectionModeName } from '../../eval/results.js';
import { readPerUserTable } from '../../eval/per-user-table.js';
import { closestCpByJsd, formatTable, improvementTables, type MethodPerUser, type Table } from '../../eval/improvement.js';
import { rboPerUser, summarize, type DistributionSummary } from '../../eval/rbo.js';
import { USER_GROUP_NAMES } from '../../eval/user-groups.js';
import { UserError } from '../../util/errors.js';
import { choice, int, requireStr } from '../args.js';
import type { Command } from '../command.js';

export const compareCommand: Command = {
  name: 'compare',
  summary: 'Improvement tables: CaliTune\'s selected epoch vs the backbone and vs CP at the closest JSD',
  usage: 'compare --run RUN --experiment NAME [--mode any|ndcg|pop_jsd|tradeoff | --epoch N] [--json]',
  options: { run: { type: 'string' }, experiment: { type: 'string' }, mode: { type: 'string' }, epoch: { type: 'string' } },
  help: `Options:
  --run DIR           run directory
  --experiment NAME   an experiment evaluated with 'calitune evaluate --experiment NAME'
  --mode M            which validation-selected epoch to compare (default: the experiment's
                      target metric, else 'any')
  --epoch N           compare this stored epoch instead
  --json              the tables as JSON

Reads RUN/results/NAME.json and NAME_per_user.tsv. CP is the λ whose JSD@10 (on the
evaluated split) is closest to the epoch's. Prints, per user group (mainstream / diverse /
niche / all): % of users whose NDCG@10 / JSD@10 got better / stayed / worse and whose head
item count fell / stayed / rose, for CaliTune and CP vs the backbone; the seed's two tables
("metrics improved", "head items decreased"); RBO over users for backbone vs CaliTune,
backbone vs CP and CP vs CaliTune.

Example:
  calitune compare --run runs/ml-100k --experiment c0.5_frozen`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const name = requireStr(v, 'experiment');
    const mode = choice(v, 'mode', SELECTION_MODES);
    const epochArg = int(v, 'epoch', { min: 0 });
    if (mode !== undefined && epochArg !== undefined) throw new UserError('give either --mode or --epoch, not both');
    const paths = resultsPaths(run, name);
    const res = readResults(paths.json);
    const c = res.calitune;
    if (!c.prepared) throw new UserError(`${paths.json} has no JSD (evaluated before 'calitune prepare'); run prepare and evaluate again`);
    const ft = res.finetuned ?? {};
    const cp = res.postprocessed ?? {};
    if (Object.keys(ft).length === 0) throw new UserError(`${paths.json} has no fine-tuned epochs; run 'calitune evaluate --run ${run} --experiment ${name}' after fine-tuning`);
    if (Object.keys(cp).length === 0) throw new UserError(`${paths.json} has no CP results; run 'calitune postprocess --run ${run}' and evaluate again`);
    let epoch: number;
    let how: string;
    if (epochArg !== undefined) {
      if (!ft[`epoch_${epochArg}`]) throw new UserError(`epoch ${epochArg} is not among the evaluated epochs (${Object.keys(ft).slice(0, 8).join(', ')}…)`);
      epoch = epochArg; how = 'given';
    } else {
      const tm = c.experiment?.target_metric;
      const m: SelectionModeName = mode ?? (typeof tm === 'string' && (SELECTION_MODES as readonly string[]).includes(tm) ? tm as SelectionModeName : 'any');
      const s = c.selected?.[m];
      if (!s) throw new UserError(`no epoch selected for mode '${m}' in ${paths.json}`);
      epoch = s.epoch; how = `selected on validation (${m})`;
    }
    const ftKey = `epoch_${epoch}`;
    const ftM = ft[ftKey]!;
    const lam = closestCpByJsd(cp as Record<string, { jsd: number }>, ftM.jsd!)!;
    if (!existsSync(paths.perUser)) throw new UserError(`missing per-user table; re-run 'calitune evaluate --run ${run} --experiment ${name}'`, paths.perUser);
    const tab = readPerUserTable(paths.perUser);
    const pick = (model: string): MethodPerUser & { rbo: Float64Array } => {
      const r = tab.models.get(model);
      if (!r) throw new UserError(`per-user table has no rows for '${model}'; re-run evaluate`, paths.perUser);
      return { ndcg: r.ndcg, jsd: r.jsd, head: r.headItems, rbo: r.rboVsBase };
    };
    const base = pick('base_recommendations'), cal = pick(`finetuned_${ftKey}`), cpU = pick(`postprocessed_${lam}`);
    const userGroup = new Int32Array(tab.nUsers).fill(-1);
    for (const [u, g] of tab.userGroupByName) userGroup[u] = USER_GROUP_NAMES.indexOf(g);
    const calLabel = `CaliTune epoch ${epoch}`, cpLabel = `CP λ=${lam}`;
    const tables = improvementTables({ base, calitune: cal, cp: cpU, userGroup, groupNames: USER_GROUP_NAMES, calituneLabel: calLabel, cpLabel });

    // RBO pairs (DESIGN §3b box plot)
    let cpVsCal: Float64Array | undefined;
    const exp = findExperiment(run, name);
    const epPath = exp.epochs.find((e) => e.epoch === epoch)?.lists[c.split];
    const cpPath = c.postprocess?.files[lam];
    if (epPath && cpPath && existsSync(epPath) && existsSync(cpPath)) {
      const a = readNpyMatrixI32(epPath), b = readNpyMatrixI32(cpPath);
      if (a.rows === b.rows && a.cols === c.k && b.cols === c.k) cpVsCal = rboPerUser(b.data, a.data, a.rows, c.k, c.k, c.rbo_p);
    }
    const rboRows: Table = { title: `RBO@${c.k} (p = ${c.rbo_p}) over users: mean / median (per group: mean)`, columns: [], rows: [] };
    const pairs: [string, Float64Array | undefined][] = [['backbone vs CaliTune', cal.rbo], ['backbone vs CP', cpU.rbo], ['CP vs CaliTune', cpVsCal]];
    const rboJson: Record<string, { overall: DistributionSummary; by_group: Record<string, DistributionSummary> } | null> = {};
    rboRows.columns = ['mean', 'q1', 'median', 'q3', ...USER_GROUP_NAMES.map((n) => `${n} mean`)];
    for (const [label, arr] of pairs) {
      if (!arr) { rboJson[label] = null; continue; }
      const overall = summarize(Float64Array.from(arr.subarray(1)).filter((x) => !Number.isNaN(x)));
      const by: Record<string, DistributionSummary> = {};
      USER_GROUP_NAMES.forEach((n, g) => {
        const vals: number[] = [];
        for (let u = 1; u < arr.length; u++) if (userGroup[u] === g && !Number.isNaN(arr[u]!)) vals.push(arr[u]!);
        by[n] = summarize(Float64Array.from(vals));
      });
      rboJson[label] = { overall, by_group: by };
      rboRows.rows.push({ group: label, users: overall.n, values: [overall.mean, overall.q1, overall.median, overall.q3, ...USER_GROUP_NAMES.map((n) => (by[n]!.n ? by[n]!.mean : 0))] });
    }

    ctx.info(`${name} on ${run} (${c.split} split, k ${c.k}): ${calLabel} ${how} — NDCG ${ftM.ndcg!.toFixed(5)} JSD ${ftM.jsd!.toFixed(5)}`);
    ctx.info(`closest CP by JSD: λ ${lam} — NDCG ${cp[lam]!.ndcg!.toFixed(5)} JSD ${cp[lam]!.jsd!.toFixed(5)}; backbone NDCG ${res.base_recommendations.ndcg!.toFixed(5)} JSD ${res.base_recommendations.jsd!.toFixed(5)}`);
    for (const t of [tables.vsBase.calitune, tables.vsBase.cp, tables.seedMetrics, tables.seedHead]) { ctx.info(''); ctx.info(formatTable(t)); }
    ctx.info('');
    {
      const head = ['pair', 'users', ...rboRows.columns];
      const body = rboRows.rows.map((r) => [r.group, String(r.users), ...r.values.map((x) => x.toFixed(4))]);
      const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
      const line = (cells: string[]) => cells.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
      ctx.info(rboRows.title);
      ctx.info(line(head));
      ctx.info(line(w.map((n) => '-'.repeat(n))));
      for (const r of body) ctx.info(line(r));
      if (!cpVsCal) ctx.info('(CP vs CaliTune: lists not found, skipped)');
    }
    return {
      run, experiment: name, split: c.split, epoch, selection: how, cp_lambda: lam,
      metrics: { base: res.base_recommendations, calitune: ftM, cp: cp[lam] },
      tables, rbo: rboJson,
    };
  },
};
