/**
 * Dependency rules for src/ (docs/architecture.md explains the layers).
 *
 * The layers, lowest first. A folder may import its own tier and any lower tier, never a
 * higher one; folders of one tier may import each other as long as no cycle forms. Type-only
 * imports count too: a type names the module that owns it.
 */
const TIERS = [
  ['util'],
  ['math'],
  ['data'],
  ['nn'],
  ['models'],
  ['selection'],
  ['train', 'calibration', 'rerank', 'eval', 'tune'],
  ['store'],
  ['experiments', 'report', 'serve'],
  ['pipeline'],
  ['cli'],
];

const folders = (names) => `^src/(${names.join('|')})/`;

/** One rule per folder: the folders of every higher tier are off limits. */
const layerRules = TIERS.flatMap((tier, level) => {
  const higher = TIERS.slice(level + 1).flat();
  if (higher.length === 0) return [];
  return tier.map((folder) => ({
    name: `layer-${folder}`,
    severity: 'error',
    comment: `src/${folder} sits below ${higher.join(', ')}: it must not import them (docs/architecture.md).`,
    from: { path: folders([folder]) },
    to: { path: folders(higher) },
  }));
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules must not depend on each other in a cycle: a cycle makes both halves one module.',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'src-not-to-test-or-bench',
      severity: 'error',
      comment: 'Library code must not import tests or benchmarks.',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import must resolve to a file or an installed package.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'src-not-to-dev-dependency',
      severity: 'error',
      comment: 'Library code must not import a devDependency: it is absent where the package is installed.',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports (`import type`) are dependencies too: keep them in the graph.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
