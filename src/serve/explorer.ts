/**
 * What the explorer page shows for one user: their history's composition over the popularity
 * groups, their target distribution, and side by side the test-time top-10 (train and valid
 * items excluded, as evaluated offline) of the backbone, of CP at a λ and of a CaliTune epoch,
 * each item with its title, group and whether it is one of the user's held-out test items; per
 * list NDCG@10, JSD@10 and composition; RBO between the lists.
 */
import type { Prepared } from '../calibration/prepare.js';
import { jsdMetric, listGroupDistribution } from '../eval/jsd.js';
import { ndcgAtK } from '../eval/ndcg.js';
import { rboOf } from '../eval/rbo.js';
import { sortedContains } from '../math/csr.js';
import { UserError } from '../util/errors.js';
import type { RecommendationService, RecommendResponse } from './service.js';
import type { ServiceLoader } from './service-slot.js';

/** A point of the trade-off chart: the backbone, CP at a λ, or an epoch of an experiment. */
export interface TradeoffPoint {
  kind: 'base' | 'cp' | 'epoch';
  ndcg: number;
  jsd: number;
  lambda?: number;
  experiment?: string;
  epoch?: number;
  /** Whether the epoch is on the validation Pareto front. */
  front?: boolean;
}

/** One list of the explorer: its items and metrics. */
export interface ExplorerList {
  name: string;
  model: string;
  items: { item: string; title?: string; group: number; heldOut: boolean }[];
  ndcg: number;
  jsd: number;
  /** Share of the list in each popularity group. */
  composition: number[];
}

/** The explorer's view of one user (see the module comment). */
export interface UserView {
  user: string;
  userGroup: string;
  groupNames: string[];
  history: number[];
  target: number[];
  lists: ExplorerList[];
  rbo: { pair: string; value: number }[];
}

/** Which lists to show: CP's λ and, optionally, a CaliTune experiment's epoch. */
export interface ViewRequest {
  user: string;
  lambda: number;
  experiment?: string;
  epoch?: number;
}

const K = 10;
const EPOCH_CACHE = 4;
const USER_GROUP_NAMES = ['mainstream', 'diverse', 'niche'];
const ITEM_GROUP_NAMES = ['head', 'mid', 'tail'];

/** Builds users' views from the backbone's service, loading (and caching a few) epochs on demand. */
export class Explorer {
  private readonly epochs = new Map<string, RecommendationService>();

  constructor(
    readonly backbone: RecommendationService,
    readonly prepared: Prepared,
    private readonly load: ServiceLoader,
    /** The trade-off chart's points, from the run's evaluation results. */
    readonly tradeoff: readonly TradeoffPoint[],
    /** CP's candidate pool, as the offline CP lists used. */
    readonly cpM: number,
  ) {}

  /** A random user of a user group (0 mainstream, 1 diverse, 2 niche). */
  randomUser(group: number): string {
    const members = this.prepared.userGroups.members[group];
    if (!members || members.length === 0) throw new UserError(`no user in group ${group}`);
    const u = members[Math.floor(Math.random() * members.length)]!;
    return this.backbone.sm.ds.userMap.tokens[u]!;
  }

  /** The user's view: history, target, the three lists with their metrics, RBO between them. */
  view(req: ViewRequest): UserView {
    const svc = this.backbone;
    const u = svc.userId(req.user);
    const G = this.prepared.nGroups;
    const exclude = ['train', 'valid'] as const;
    const answers: [string, RecommendResponse][] = [
      ['backbone', svc.recommend({ user: req.user, k: K, exclude })],
      [
        `CP λ ${req.lambda}`,
        svc.recommend({ user: req.user, k: K, exclude, method: 'cp', lambda: req.lambda, m: this.cpM }),
      ],
    ];
    if (req.experiment !== undefined) {
      const epochSvc = this.epochService(req.experiment, req.epoch);
      const name = `CaliTune ${req.experiment} epoch ${epochSvc.sm.epoch ?? '?'}`;
      answers.push([name, epochSvc.recommend({ user: req.user, k: K, exclude })]);
    }
    const lists = answers.map(([name, a]) => this.list(name, a, u));
    const rbo: UserView['rbo'] = [];
    for (let i = 0; i < lists.length; i++) {
      for (let j = i + 1; j < lists.length; j++) {
        const a = lists[i]!.items.map((x) => x.item),
          b = lists[j]!.items.map((x) => x.item);
        if (a.length === b.length) rbo.push({ pair: `${lists[i]!.name} / ${lists[j]!.name}`, value: rboOf(a, b) });
      }
    }
    const history = new Float64Array(G);
    const { train } = svc.sm.ds;
    const trainItems = train.indices.subarray(train.indptr[u]!, train.indptr[u + 1]!);
    listGroupDistribution(trainItems, 0, trainItems.length, this.prepared.itemGroup, G, history);
    return {
      user: req.user,
      userGroup: USER_GROUP_NAMES[this.prepared.userGroups.userGroup[u]!] ?? '?',
      groupNames: ITEM_GROUP_NAMES.slice(0, G),
      history: [...history],
      target: [...this.prepared.targets.subarray(u * G, u * G + G)],
      lists,
      rbo,
    };
  }

  private epochService(experiment: string, epoch: number | undefined): RecommendationService {
    const key = `${experiment}@${epoch ?? 'any'}`;
    let s = this.epochs.get(key);
    if (!s) {
      s = this.load(epoch === undefined ? { experiment } : { experiment, epoch });
      if (this.epochs.size >= EPOCH_CACHE) this.epochs.delete(this.epochs.keys().next().value!);
      this.epochs.set(key, s);
    }
    return s;
  }

  private list(name: string, a: RecommendResponse, u: number): ExplorerList {
    const { ds } = this.backbone.sm;
    const G = this.prepared.nGroups;
    // Padded with −1 to k, as the offline lists are, so that NDCG's ideal DCG is the same.
    const ids = new Int32Array(K).fill(-1);
    a.items.forEach((x, j) => {
      ids[j] = ds.itemMap.index.get(x.item)!;
    });
    const { test } = ds;
    const t0 = test.indptr[u]!,
      t1 = test.indptr[u + 1]!;
    const composition = new Float64Array(G);
    listGroupDistribution(ids, 0, K, this.prepared.itemGroup, G, composition);
    return {
      name,
      model: a.model,
      items: a.items.map((x, j) => ({
        item: x.item,
        ...(x.title !== undefined ? { title: x.title } : {}),
        group: this.prepared.itemGroup[ids[j]!]! + 1,
        heldOut: sortedContains(test.indices, t0, t1, ids[j]!),
      })),
      ndcg: ndcgAtK(ids, 0, K, test.indices, t0, t1),
      jsd: jsdMetric(composition, 0, this.prepared.targets, u * G, G),
      composition: [...composition],
    };
  }
}
