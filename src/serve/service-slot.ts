/**
 * The served model, swappable without a restart. A request takes the slot's current service
 * once, when it starts, and uses it to the end: a reload lets in-flight requests finish on the
 * old model and every answer comes wholly from one model.
 */
import type { RecommendationService } from './service.js';
import type { ServeSelection } from './serving-model.js';

/** What to serve after a reload: the backbone, or an experiment's epoch or validation-selected epoch. */
export interface ReloadTarget {
  experiment?: string;
  epoch?: number;
  mode?: ServeSelection;
}

/** Builds the service of a reload target (throws UserError/InputError when the target cannot be served). */
export type ServiceLoader = (target: ReloadTarget) => RecommendationService;

/** What a reload swapped. */
export interface ReloadResult {
  /** The label of the model served before. */
  previous: string;
  /** The label of the model served now. */
  model: string;
}

/** Holds the current service; {@link ServiceSlot.reload} replaces it in one assignment. */
export class ServiceSlot {
  private service: RecommendationService;

  /** @param load builds the service of a reload target; without it the slot cannot reload */
  constructor(
    initial: RecommendationService,
    readonly load?: ServiceLoader,
  ) {
    this.service = initial;
  }

  /** The service new requests use. */
  get current(): RecommendationService {
    return this.service;
  }

  /**
   * Loads the target fully (weights and CP's normalisation) while the old model keeps serving,
   * then swaps. A failed load leaves the old model in place.
   */
  reload(target: ReloadTarget): ReloadResult {
    if (!this.load) throw new Error('this server was started without a loader: it cannot reload');
    const next = this.load(target);
    next.prepareCp();
    const previous = this.service.sm.label;
    this.service = next;
    return { previous, model: next.sm.label };
  }
}
