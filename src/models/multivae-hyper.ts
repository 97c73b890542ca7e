/** MultiVAE's sizes and the constants of its training (RecBole 1.2.1's values). */
import { checkSizes } from '../nn/layer-sizes.js';
import { checkPositiveInt } from '../util/checks.js';

/** MultiVAE's layer sizes, validated by resolveMultiVaeHyper. */
export interface MultiVaeHyper {
  /** Users including padding user 0. */
  nUsers: number;
  /** Items including padding item 0. */
  nItems: number;
  /** RecBole `mlp_hidden_size` (default [600]). */
  hidden: number[];
  /** Size of μ (RecBole's `latent_dimension` is 2·latent = 128 by default → latent 64). */
  latent: number;
}

/** β of the KL term in CaliTune's accuracy term for MultiVAE (RecBole's anneal_cap). */
export const MULTIVAE_FINETUNE_BETA = 0.2;

/** RecBole's reparameterisation noise std (ε ~ N(0, 0.01²)). */
export const MULTIVAE_EPS_STD = 0.01;

/** Validates MultiVAE sizes: positive integers, a non-empty hidden list. */
export function resolveMultiVaeHyper(h: Readonly<Record<string, unknown>>): MultiVaeHyper {
  return {
    nUsers: checkPositiveInt('nUsers', h.nUsers),
    nItems: checkPositiveInt('nItems', h.nItems),
    hidden: checkSizes('hidden', h.hidden),
    latent: checkPositiveInt('latent', h.latent),
  };
}
