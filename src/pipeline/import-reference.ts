/**
 * Build a run from the reference's files: embedding .npy files (they become a BPR model whose
 * score is the dot product), split TSVs and id maps; the run is evaluated right away.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readSplitFiles, splitPaths } from '../data/split-io.js';
import { readNpyMatrixF32 } from '../data/npy.js';
import { createRun } from '../store/run.js';
import { commitNewModel, newModelFolder } from '../store/model-files.js';
import { withRunLock } from '../store/run-locks.js';
import { createModel, saveModel } from '../models/model-file.js';
import { evaluateBase } from '../eval/base-eval.js';
import { InputError, UserError } from '../util/errors.js';
import { writeBaseEvaluation } from '../store/base-files.js';
import { parseOptions } from './options.js';
import { noteStaleDerivedArtefacts } from './stale-artefacts.js';
import { silentReporter, type Reporter } from './reporter.js';

const file = z.string().min(1).optional();

/** Options of {@link importReference}: the run to create and the reference's files (a folder, or each file). */
export const importReferenceOptionsSchema = z
  .object({
    /** Run directory to create. */
    run: z.string().min(1),
    /**
     * A folder in the oracle's layout: user_emb.npy, item_emb.npy, user_id_map.tsv,
     * item_id_map.tsv, splits/{train,valid,test}_split.tsv; the options below override its files.
     */
    from: file,
    /** (nUsers+1) × dim float32 .npy, row 0 = padding. */
    userEmbeddings: file,
    /** (nItems+1) × dim float32 .npy, row 0 = padding. */
    itemEmbeddings: file,
    /** Split TSVs: header user_id<TAB>item_id, internal ids. */
    train: file,
    valid: file,
    test: file,
    /** Id maps: header user_id:token<TAB>internal_id. */
    userMap: file,
    itemMap: file,
  })
  .strict();

/**
 * What {@link importReference} takes: `run`, and `from` (a folder in the reference's layout) or the files one by one.
 */
export type ImportReferenceOptions = z.input<typeof importReferenceOptionsSchema>;
type Options = z.output<typeof importReferenceOptionsSchema>;
type FileField = Exclude<keyof Options, 'run' | 'from'>;

/** The imported run: sizes, embedding size, and the backbone's valid and test NDCG@10 with its list files. */
export type ImportReferenceResult = { run: string } & ReturnType<typeof writeBaseEvaluation> & {
    /** Users and items imported (padding left out) and the embedding size. */
    users: number;
    items: number;
    dim: number;
  };

/** Every input file: given, else from the `from` folder; each must exist. */
function inputFiles(o: Options) {
  const sp = o.from !== undefined ? splitPaths(o.from) : undefined;
  const pick = (field: FileField, fallback: string | undefined): string => {
    const x = o[field] ?? fallback;
    if (x === undefined)
      throw new InputError((n) => `${n.option(field)} is required (or give ${n.option('from')} DIR)`, { field });
    if (!existsSync(x)) throw new UserError('no such file', x);
    return x;
  };
  const splits = {
    train: pick('train', sp?.train),
    valid: pick('valid', sp?.valid),
    test: pick('test', sp?.test),
    userMap: pick('userMap', sp?.userMap),
    itemMap: pick('itemMap', sp?.itemMap),
  };
  const userEmb = pick('userEmbeddings', o.from && join(o.from, 'user_emb.npy'));
  const itemEmb = pick('itemEmbeddings', o.from && join(o.from, 'item_emb.npy'));
  return { splits, userEmb, itemEmb };
}

/**
 * Creates a run from the reference implementation's embeddings, split and id maps: the embeddings become a
 * BPR model (dot-product scores), which is evaluated right away. Holds the run lock meanwhile.
 */
export async function importReference(
  options: ImportReferenceOptions,
  reporter: Reporter = silentReporter,
): Promise<ImportReferenceResult> {
  const o = parseOptions(importReferenceOptionsSchema, options);
  const note = (line: string) => reporter.warn(line);
  return withRunLock({ run: o.run, target: 'run', command: 'import', note }, () => importLocked(o, reporter));
}

/** importReference once the run lock is held. */
async function importLocked(o: Options, reporter: Reporter): Promise<ImportReferenceResult> {
  const { splits, userEmb, itemEmb } = inputFiles(o);
  const ds = readSplitFiles(splits);
  const ue = readNpyMatrixF32(userEmb);
  const ie = readNpyMatrixF32(itemEmb);
  if (ue.rows !== ds.nUsers)
    throw new UserError(`has ${ue.rows} rows, the id map has ${ds.nUsers} users (padding included)`, userEmb);
  if (ie.rows !== ds.nItems)
    throw new UserError(`has ${ie.rows} rows, the id map has ${ds.nItems} items (padding included)`, itemEmb);
  if (ue.cols !== ie.cols)
    throw new UserError(`user and item embeddings differ in size (${ue.cols} vs ${ie.cols})`, itemEmb);
  const info = createRun(o.run, ds, { kind: 'import', path: o.from ?? userEmb }, null);
  const model = createModel('bpr', { nUsers: ds.nUsers, nItems: ds.nItems, dim: ue.cols }, 0);
  for (const p of model.parameters()) {
    if (p.name === 'user_embedding.weight') p.value.set(ue.data);
    else if (p.name === 'item_embedding.weight') p.value.set(ie.data);
  }
  const e = evaluateBase(model, ds);
  const fresh = newModelFolder(o.run);
  saveModel(fresh.dir, model, {
    idMaps: {
      user: { field: ds.userMap.field, tokens: [...ds.userMap.tokens] },
      item: { field: ds.itemMap.field, tokens: [...ds.itemMap.tokens] },
    },
    training: { imported_from: { user_emb: userEmb, item_emb: itemEmb } },
    dataFingerprint: info.fingerprint,
    metrics: { valid_ndcg10: e.valid.ndcg, test_ndcg10: e.test.ndcg },
  });
  commitNewModel(o.run, fresh.dir);
  const summary = writeBaseEvaluation(o.run, e, 'bpr');
  noteStaleDerivedArtefacts(o.run, reporter);
  return { run: o.run, ...summary, users: ds.nUsers - 1, items: ds.nItems - 1, dim: ue.cols };
}
