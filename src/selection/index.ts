/** Epoch selection, Pareto fronts and the comparison with CP: one rule each, used everywhere. */
export * from './modes.js';
export * from './epochs.js';
export * from './pareto.js';
export * from './cp-curve.js';
export * from './frontier.js';
export * from './margins.js';
