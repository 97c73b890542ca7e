import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readSplitFiles, splitPaths } from '../../data/split-io.js';
import { readNpyMatrixF32 } from '../../data/npy.js';
import { createRun, runPaths } from '../../experiments/run-dir.js';
import { createModel, saveModel } from '../../models/model-file.js';
import { evaluateBase } from '../../eval/base-eval.js';
import { UserError } from '../../util/errors.js';
import { requireStr, str } from '../args.js';
import { saveBaseEvaluation } from '../base-output.js';
import type { Command } from '../command.js';

export const importCommand: Command = {
  name: 'import',
  summary: 'Build a run directory from embedding .npy files, split TSVs and id maps (the reference\'s format)',
  usage: 'import --run RUN --from DIR | --user-emb F --item-emb F --train F --valid F --test F --user-map F --item-map F',
  options: {
    run: { type: 'string' }, from: { type: 'string' },
    'user-emb': { type: 'string' }, 'item-emb': { type: 'string' },
    train: { type: 'string' }, valid: { type: 'string' }, test: { type: 'string' },
    'user-map': { type: 'string' }, 'item-map': { type: 'string' },
  },
  help: `Options:
  --run DIR        run directory to create
  --from DIR       a folder in the oracle's layout: user_emb.npy, item_emb.npy, user_id_map.tsv,
                   item_id_map.tsv, splits/{train,valid,test}_split.tsv (any file can be
                   overridden by the flags below)
  --user-emb F     (nUsers+1) × dim float32 .npy, row 0 = padding
  --item-emb F     (nItems+1) × dim float32 .npy, row 0 = padding
  --train/--valid/--test F   split TSVs: header user_id<TAB>item_id, internal ids
  --user-map/--item-map F    id maps: header user_id:token<TAB>internal_id

The embeddings become a BPR model (score = dot product); the run is evaluated right away.

Example:
  calitune import --from ../shared/oracle/ml-100k-bpr --run runs/oracle`,
  async run(v, _pos, ctx) {
    const run = requireStr(v, 'run');
    const from = str(v, 'from');
    const sp = from !== undefined ? splitPaths(from) : undefined;
    const pick = (flag: string, fallback: string | undefined): string => {
      const x = str(v, flag) ?? fallback;
      if (x === undefined) throw new UserError(`--${flag} is required (or give --from DIR)`);
      if (!existsSync(x)) throw new UserError('no such file', x);
      return x;
    };
    const paths = {
      train: pick('train', sp?.train), valid: pick('valid', sp?.valid), test: pick('test', sp?.test),
      userMap: pick('user-map', sp?.userMap), itemMap: pick('item-map', sp?.itemMap),
    };
    const userEmbPath = pick('user-emb', from && join(from, 'user_emb.npy'));
    const itemEmbPath = pick('item-emb', from && join(from, 'item_emb.npy'));
    const ds = readSplitFiles(paths);
    const ue = readNpyMatrixF32(userEmbPath);
    const ie = readNpyMatrixF32(itemEmbPath);
    if (ue.rows !== ds.nUsers) throw new UserError(`has ${ue.rows} rows, the id map has ${ds.nUsers} users (padding included)`, userEmbPath);
    if (ie.rows !== ds.nItems) throw new UserError(`has ${ie.rows} rows, the id map has ${ds.nItems} items (padding included)`, itemEmbPath);
    if (ue.cols !== ie.cols) throw new UserError(`user and item embeddings differ in size (${ue.cols} vs ${ie.cols})`, itemEmbPath);
    const info = createRun(run, ds, { kind: 'import', path: from ?? userEmbPath }, null);
    const model = createModel('bpr', { nUsers: ds.nUsers, nItems: ds.nItems, dim: ue.cols }, 0);
    for (const p of model.parameters()) {
      if (p.name === 'user_embedding.weight') p.value.set(ue.data);
      else if (p.name === 'item_embedding.weight') p.value.set(ie.data);
    }
    const e = evaluateBase(model, ds);
    saveModel(runPaths(run).model, model, {
      idMaps: { user: { field: ds.userMap.field, tokens: [...ds.userMap.tokens] }, item: { field: ds.itemMap.field, tokens: [...ds.itemMap.tokens] } },
      training: { imported_from: { user_emb: userEmbPath, item_emb: itemEmbPath } },
      dataFingerprint: info.fingerprint,
      metrics: { valid_ndcg10: e.valid.ndcg, test_ndcg10: e.test.ndcg },
    });
    const summary = saveBaseEvaluation(run, e, 'bpr');
    ctx.info(`imported ${ds.nUsers - 1} users × ${ds.nItems - 1} items (dim ${ue.cols}) into ${run}`);
    ctx.info(`valid NDCG@10 ${e.valid.ndcg.toFixed(5)}   test NDCG@10 ${e.test.ndcg.toFixed(5)}`);
    return { run, ...summary };
  },
};
