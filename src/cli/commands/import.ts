import { importReference, type ImportReferenceResult } from '../../pipeline/import-reference.js';
import type { Reporter } from '../../pipeline/reporter.js';
import { requireStr, str } from '../args.js';
import type { Command } from '../command.js';

/** Prints an import result: sizes and the imported model's NDCG. */
export function printImport(r: ImportReferenceResult, out: Reporter): void {
  out.info(`imported ${r.users} users × ${r.items} items (dim ${r.dim}) into ${r.run}`);
  out.info(`valid NDCG@10 ${r.valid.ndcg.toFixed(5)}   test NDCG@10 ${r.test.ndcg.toFixed(5)}`);
}

/** `calitune import`: a run from the reference implementation's files. */
export const importCommand: Command = {
  name: 'import',
  summary: "Build a run directory from embedding .npy files, split TSVs and id maps (the reference's format)",
  usage:
    'import --run RUN --from DIR | --user-emb F --item-emb F --train F --valid F --test F --user-map F --item-map F',
  options: {
    run: { type: 'string' },
    from: { type: 'string' },
    'user-emb': { type: 'string' },
    'item-emb': { type: 'string' },
    train: { type: 'string' },
    valid: { type: 'string' },
    test: { type: 'string' },
    'user-map': { type: 'string' },
    'item-map': { type: 'string' },
  },
  optionFlags: { userEmbeddings: 'user-emb', itemEmbeddings: 'item-emb' },
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
    const r = await importReference(
      {
        run: requireStr(v, 'run'),
        from: str(v, 'from'),
        userEmbeddings: str(v, 'user-emb'),
        itemEmbeddings: str(v, 'item-emb'),
        train: str(v, 'train'),
        valid: str(v, 'valid'),
        test: str(v, 'test'),
        userMap: str(v, 'user-map'),
        itemMap: str(v, 'item-map'),
      },
      ctx,
    );
    printImport(r, ctx);
    const { users: _users, items: _items, dim: _dim, ...json } = r;
    return json;
  },
};
