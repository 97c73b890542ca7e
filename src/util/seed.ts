/**
 * The seed used when none is given: the reference's (RecBole's) seed, so that a default run
 * reproduces the reference's split and backbone.
 */
export const DEFAULT_SEED = 920;
