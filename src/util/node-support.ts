/**
 * The Node.js release lines the project supports and tests (README "Requirements"), with their
 * end-of-life dates from the Node.js release schedule. package.json's `engines` is derived from
 * this table (a test keeps the two equal), and `calitune doctor` reports against it.
 */

/** One supported Node.js release line. */
export interface NodeLine {
  /** The major version, e.g. 24. */
  readonly major: number;
  /** The oldest patch release of the line that every dependency accepts (`engines` lower bound). */
  readonly minimum: string;
  /** End of life (ISO date): no security fixes after it. */
  readonly endOfLife: string;
}

/** Supported lines, oldest first. 20 is kept for existing machines; 24 is the one to install. */
export const NODE_LINES: readonly NodeLine[] = [
  { major: 20, minimum: '20.19.0', endOfLife: '2026-04-30' },
  { major: 22, minimum: '22.13.0', endOfLife: '2027-04-30' },
  { major: 24, minimum: '24.0.0', endOfLife: '2028-04-30' },
];

/** The line the README recommends installing. */
export const RECOMMENDED_NODE_MAJOR = 24;

/** package.json's `engines.node` range as it follows from {@link NODE_LINES}. */
export function enginesRange(lines: readonly NodeLine[] = NODE_LINES): string {
  return lines.map((l) => `^${l.minimum}`).join(' || ');
}

/** How a Node.js version stands against the supported lines on a given day. */
export interface NodeSupport {
  /** The version examined, without the leading `v`. */
  readonly version: string;
  readonly major: number;
  /** Whether the major version is one of {@link NODE_LINES}. */
  readonly supported: boolean;
  /** The line's end of life, when the line is known. */
  readonly endOfLife: string | null;
  /** Whether that date has passed. */
  readonly pastEndOfLife: boolean;
  /** One sentence for a person: supported or not, end of life, what to install. */
  readonly advice: string;
}

/** Classifies `version` (default: the running Node) against {@link NODE_LINES} on `today`. */
export function nodeSupport(version: string = process.versions.node, today: Date = new Date()): NodeSupport {
  const clean = version.replace(/^v/, '');
  const major = Number(clean.split('.')[0]);
  const line = NODE_LINES.find((l) => l.major === major);
  const supportedList = NODE_LINES.map((l) => l.major).join(', ');
  const install = `install Node ${RECOMMENDED_NODE_MAJOR} LTS`;
  if (!line) {
    const advice = `Node ${clean} is not a tested line (supported: ${supportedList}); ${install}`;
    return { version: clean, major, supported: false, endOfLife: null, pastEndOfLife: false, advice };
  }
  const past = today.toISOString().slice(0, 10) > line.endOfLife;
  const advice = past
    ? `Node ${major} reached end of life on ${line.endOfLife} (no security fixes); ${install}`
    : `Node ${major} is supported until ${line.endOfLife}` +
      (major === RECOMMENDED_NODE_MAJOR
        ? ' (the recommended line)'
        : `; Node ${RECOMMENDED_NODE_MAJOR} is recommended`);
  return { version: clean, major, supported: true, endOfLife: line.endOfLife, pastEndOfLife: past, advice };
}
