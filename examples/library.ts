// CaliTune as a library: a BPR backbone on a small synthetic dataset, CP re-ranking as the baseline,
// CaliTune fine-tuning, and the test-split evaluation of all three. Runs in a few seconds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, finetune, generateSynthetic, postprocess, prepare, train, writeInterFile } from 'calitune';

const dir = mkdtempSync(join(tmpdir(), 'calitune-example-'));
const run = join(dir, 'run');
const f4 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));

try {
  // Interactions: a seeded long-tailed log of 300 users and 400 items, saved as a RecBole .inter file.
  const data = join(dir, 'synthetic.inter');
  writeInterFile(data, generateSynthetic({ users: 300, items: 400, interactions: 15_000, seed: 7 }));

  // The run is created from the file (80/10/10 split); BPR stops early on valid NDCG@10.
  await train({ run, data, model: 'bpr', hyperparameters: { dim: 32, lr: 0.01, epochs: 50 } });
  // Popularity groups (head / mid / tail), each user's target distribution over them, user groups.
  await prepare({ run });
  // CP re-ranking of the backbone's lists for λ = 0.1 … 0.9: the baseline to beat.
  await postprocess({ run });

  // CaliTune fine-tuning; configuration keys left out take the reference's defaults.
  const configFile = join(dir, 'calitune.yaml');
  writeFileSync(configFile, 'num_epochs: 20\nlearning_rate: 0.005\ncombined_mode_alpha: 0.5\n');
  await finetune({ run, experiment: 'alpha0.5', configFile });

  // Test-split metrics of the backbone, every CP λ and every stored CaliTune epoch.
  const results = await evaluate({ run, experiment: 'alpha0.5' });
  const base = results.base_recommendations;
  console.log(`backbone (BPR)  test NDCG@10 ${f4(base.ndcg)}  JSD@10 ${f4(base.jsd)}`);

  // The epoch selected on validation (best trade-off) and its verdict against CP at the same JSD@10.
  const selected = results.calitune.selected?.tradeoff;
  if (selected) {
    const tuned = results.finetuned?.[`epoch_${selected.epoch}`];
    const label = `CaliTune e${selected.epoch}`.padEnd(15);
    console.log(`${label} test NDCG@10 ${f4(tuned?.ndcg)}  JSD@10 ${f4(tuned?.jsd)}`);
    const vsCp = results.calitune.vs_cp?.tradeoff;
    const at = 'vs CP at equal JSD@10:';
    if (vsCp?.verdict) console.log(`${at} ${vsCp.verdict} (CP ${f4(vsCp.cp_ndcg)}, Δ ${f4(vsCp.delta)})`);
    else if (vsCp) console.log(`${at} none (more calibrated than every CP λ)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
