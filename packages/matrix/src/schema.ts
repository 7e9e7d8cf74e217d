import { z } from 'zod';

// The shape of matrix.yaml. Kept strict (unknown keys are errors) so a typo in a key
// is reported at its line instead of silently ignored.

export const ISSUE_ID = /^[a-z0-9][a-z0-9._-]*$/;
export const LAYER_ID = /^[a-z][a-z0-9_-]*$/;
export const DURATION = /^(\d+)(ms|s|m|h)$/;

export const severities = ['critical', 'high', 'medium', 'low'] as const;
export const backends = ['auto', 'embedded', 'containers', 'external'] as const;
export const layerKinds = ['unit', 'process', 'network'] as const;

const issueId = z
  .string()
  .regex(ISSUE_ID, 'an issue id is lower-case letters, digits, ".", "_" or "-" (it is used as a vitest tag)');
const layerId = z.string().regex(LAYER_ID, 'a layer id is lower-case letters, digits, "_" or "-", e.g. "l1"');
const duration = z.string().regex(DURATION, 'a duration is a whole number with a unit: "500ms", "30s", "5m" or "1h"');
const severity = z.enum(severities, { error: () => `severity must be one of ${severities.join(', ')}` });

export const resultFormats = ['junit', 'go-test-json', 'libtest-json'] as const;

// A test command in any language whose results faultline reads (see @faultline/runner's command projects).
export const commandProjectSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9@][A-Za-z0-9@._/-]*$/, 'a project name is letters, digits, ".", "_", "-", "/" or "@"')
      .describe('The name its tests carry in results and reports.'),
    command: z
      .string()
      .min(1)
      .describe('The test command, run by /bin/sh in its own process group, e.g. "go test -json ./...".'),
    cwd: z
      .string()
      .min(1)
      .default('.')
      .describe('Directory the command runs in, relative to this file (default: the matrix directory).'),
    results: z
      .strictObject({
        format: z
          .enum(resultFormats, { error: () => `results.format must be one of ${resultFormats.join(', ')}` })
          .describe('junit (XML), go-test-json (go test -json) or libtest-json (cargo test -- --format json).'),
        path: z
          .string()
          .min(1)
          .optional()
          .describe("Results file relative to cwd; absent: read from the command's stdout (JSON formats only)."),
      })
      .refine((r) => r.format !== 'junit' || r.path !== undefined, {
        message: 'results.format junit needs results.path (the XML file the command writes)',
      }),
    env: z.record(z.string(), z.string()).optional().describe('Extra environment variables for the command.'),
    shard: z
      .enum(['first', 'env'])
      .default('first')
      .describe(
        'Under --shard i/n: "env" when the command picks its own part from FAULTLINE_SHARD_INDEX and FAULTLINE_SHARD_COUNT; "first" (default) runs it whole in shard 1 only.',
      ),
  })
  .describe('A test command in any language whose results faultline reads.');

export const layerSchema = z.strictObject({
  title: z.string().min(1).describe('Human title of the layer, shown in reports.'),
  projects: z
    .array(z.union([z.string().min(1), commandProjectSchema]))
    .min(
      1,
      'a layer needs at least one project (a path such as ./test/l1, or a workspace package or nx project that runs its tests)',
    )
    .describe(
      'Projects whose suites cover this layer: a path to a directory holding a vitest config, relative to this file (./test/l1), a workspace package or nx project name, or a test command ({ name, command, cwd, results: { format, path } }).',
    ),
  timeout: duration.default('10m').describe('Wall-clock limit for the whole layer; hung test files are killed.'),
  backend: z
    .enum(backends)
    .optional()
    .describe(
      'Layer-3 network backend: containers (testcontainers + Toxiproxy image), embedded, external (a running Toxiproxy at toxiproxyUrl), or auto (external when a Toxiproxy URL is set, else containers when an engine answers, else embedded).',
    ),
  toxiproxyUrl: z
    .string()
    .regex(/^https?:\/\/[^\s/]+\/?$/, 'toxiproxyUrl is a Toxiproxy API URL such as http://127.0.0.1:8474')
    .optional()
    .describe(
      'Layer-3 external backend: the API URL of a running Toxiproxy server (docker-compose, a CI service container). FAULTLINE_TOXIPROXY_URL and faultline run --toxiproxy-url override it.',
    ),
  kind: z
    .enum(layerKinds)
    .optional()
    .describe(
      "What the layer's tests do, which sets its suite defaults (per-test timeout, parallel files): unit (in-process mocks: 10 s, files in parallel), process (real processes: 60 s, one file at a time) or network (real network faults: 60 s, one file at a time). Default: unit for l1, process for l2, network for l3, process for any other id.",
    ),
  description: z.string().optional(),
});

export const conditionSchema = z.strictObject({
  severity: z
    .union([severity, z.array(severity).min(1)])
    .optional()
    .describe('Matches issues of this severity.'),
  tags: z.array(z.string().min(1)).min(1).optional().describe('Matches issues carrying any of these tags.'),
});

export const requirementSchema = z.strictObject({
  when: conditionSchema.optional().describe('Which issues the rule applies to; omitted means every issue.'),
  layers: z.array(layerId).min(1).describe('Layers the matching issues must be covered in.'),
});

export const verifyPolicySchema = z
  .strictObject({
    when: conditionSchema
      .optional()
      .describe('Which issues must have every declared break caught; omitted means every issue.'),
  })
  .describe(
    'Require honest cells: each required cell of a matching issue must declare breaks, and `faultline verify` must have seen every one of them turn the cell red (failed). Unverified, missed or undeclared fails the gate.',
  );

export const policySchema = z.strictObject({
  require: z.array(requirementSchema).default([]),
  vacuous: z
    .enum(['fail', 'warn'])
    .default('fail')
    .describe('A passing test that recorded no fault evidence: fail the gate, or only warn.'),
  vacuousTests: z
    .enum(['warn', 'fail', 'allow'])
    .default('warn')
    .describe(
      'A passing test that claims an issue and recorded no fault, in a cell other tests cover: warn, fail the gate, or allow (say nothing).',
    ),
  planned: z
    .enum(['allow', 'fail'])
    .default('allow')
    .describe('Issues with status "planned" may stay uncovered (allow) or fail the gate.'),
  notRun: z
    .enum(['fail', 'allow'])
    .default('fail')
    .describe(
      'A required cell whose layer could not run (e.g. no container runtime). Never allows test.skip or test.todo.',
    ),
  flaky: z
    .enum(['fail', 'warn'])
    .default('fail')
    .describe('A required cell whose tests passed only after a retry: never covered; fail the gate, or only warn.'),
  verify: verifyPolicySchema.optional(),
});

/** A calendar date `YYYY-MM-DD` that exists (2027-02-31 does not). */
const isoDate = z.string().refine((text) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}, 'a date is a real calendar day written YYYY-MM-DD, e.g. 2027-01-31');

export const quarantineSchema = z
  .strictObject({
    until: isoDate.describe('The last day the quarantine holds (UTC); after it the gate fails.'),
    reason: z
      .string()
      .min(1, 'a quarantine needs a reason (a ticket, who owns the fix)')
      .describe('Why, and who fixes it.'),
  })
  .describe(
    "The issue's cells are known broken or flaky: shown as quarantined in every report and only warn the gate until the date; an expired quarantine fails the gate.",
  );

/** A break's name: what the system under test finds in FAULTLINE_BREAK (comma-separated). */
export const BREAK_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export const breakSchema = z
  .strictObject({
    name: z
      .string()
      .regex(BREAK_NAME, 'a break name is a letter then letters, digits, ".", "_" or "-" (e.g. skipChunkVerify)')
      .describe(
        'A switch the system under test reads from the FAULTLINE_BREAK environment variable (comma-separated names) that removes the protection of this issue.',
      ),
    layers: z
      .array(layerId)
      .min(1, 'a break names the layers whose cell it must turn red, e.g. [l1]')
      .describe('Layers whose cell of this issue must turn red (failed) when the break is set.'),
    notes: z.string().optional(),
  })
  .describe('A protection removed on purpose: `faultline verify` expects the cell to fail with it.');

export const issueSchema = z.strictObject({
  id: issueId.describe('Stable id, used as the vitest tag that links tests to this issue.'),
  ref: z.union([z.string(), z.number()]).optional().describe('The team\'s own numbering, e.g. "2.1".'),
  title: z.string().min(1),
  severity,
  tags: z.array(z.string().min(1)).default([]),
  status: z.enum(['active', 'planned']).default('active'),
  layers: z.array(layerId).optional().describe('Layers this issue must be covered in, in addition to the policy.'),
  notes: z.string().optional(),
  quarantine: quarantineSchema.optional(),
  breaks: z
    .array(breakSchema)
    .optional()
    .describe('Switches that remove this protection; `faultline verify` runs each and expects its cells to turn red.'),
});

export const matrixSchema = z.strictObject({
  version: z.literal(1, { error: () => 'version must be 1' }),
  system: z.string().min(1).describe('The system under test.'),
  layers: z.record(layerId, layerSchema).refine((l) => Object.keys(l).length > 0, 'at least one layer is needed'),
  policy: policySchema.default({
    require: [],
    vacuous: 'fail',
    vacuousTests: 'warn',
    planned: 'allow',
    notRun: 'fail',
    flaky: 'fail',
  }),
  issues: z.array(issueSchema).min(1, 'at least one issue is needed'),
});

export type Severity = (typeof severities)[number];
export type Backend = (typeof backends)[number];
export type LayerKind = (typeof layerKinds)[number];
export type MatrixInput = z.input<typeof matrixSchema>;
export type Matrix = z.output<typeof matrixSchema>;
export type Layer = z.output<typeof layerSchema>;
export type CommandProjectSpec = z.output<typeof commandProjectSchema>;
export type ResultFormat = (typeof resultFormats)[number];
export type Issue = z.output<typeof issueSchema>;
export type Quarantine = z.output<typeof quarantineSchema>;
export type Requirement = z.output<typeof requirementSchema>;
export type Policy = z.output<typeof policySchema>;
export type Break = z.output<typeof breakSchema>;
export type VerifyPolicy = z.output<typeof verifyPolicySchema>;

/** The JSON Schema editors use to complete matrix.yaml (checked in as matrix.schema.json). */
export function matrixJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(matrixSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://faultline.dev/matrix.schema.json',
    title: 'faultline coverage matrix',
  };
}

// The well-known ids keep their meaning wherever they sit in the matrix; any other id gets
// the careful kind (one file at a time, long timeouts) unless it says otherwise.
const KIND_BY_ID: Readonly<Record<string, LayerKind>> = { l1: 'unit', l2: 'process', l3: 'network' };

/** The declared kind of a layer, else the kind its well-known id implies, else `process`. */
export function layerKind(id: string, layer: Pick<Layer, 'kind'>): LayerKind {
  return layer.kind ?? KIND_BY_ID[id] ?? 'process';
}

/** Parses "5m" into milliseconds. */
export function durationMs(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}
