// Plan files on disk: reading the plan a policy needs (validated, and bound to this model and
// step count), and registering new plans in manifest.json without ever leaving it half-written.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { validatePlan, type CachePlan } from '../cache/plan.ts';
import { DiffusionError } from '../core/errors.ts';
import { MANIFEST_FILE } from '../backend/node-files.ts';
import { calibrateCommand, checkPlanMatches, findPlan, type PlanQuery } from '../manifest/plans.ts';
import type { ModelManifest, PlanEntry, RectificationSpace } from '../manifest/types.ts';
import { resolveModelFile } from '../manifest/validate.ts';

export interface LoadedPlan {
  entry: PlanEntry;
  plan: CachePlan;
}

/** The manifest's plan for a policy (findPlan), read, validated and checked against the run. */
export async function readPlanFor(m: ModelManifest, policy: string, steps: number, query: PlanQuery = {}): Promise<LoadedPlan> {
  const entry = findPlan(m, policy, steps, query);
  const path = resolveModelFile(m.baseUrl, entry.file);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new DiffusionError(
      'PLAN_INVALID',
      `cannot read plan ${path}: ${(e as Error).message}`,
      `Run \`${calibrateCommand(m.baseUrl, steps, entry.budget)}\` to write it again.`,
      { cause: e },
    );
  }
  const plan = validatePlan(json);
  checkPlanMatches(plan, m, steps);
  return { entry, plan };
}

/** Plan file inside the model directory: plans/ertacache-50-b25.json, …-b25-hidden.json, teacache-50.json. */
export function planFileName(kind: string, steps: number, budget?: number, space?: RectificationSpace, phi?: 'paper' | 'lsq'): string {
  const b = budget === undefined ? '' : `-b${budget}`;
  return `plans/${kind}-${steps}${b}${space === 'hidden' ? '-hidden' : ''}${phi === 'lsq' ? '-lsq' : ''}.json`;
}

/** Writes a file atomically: a temp file in the same directory, then rename over the target. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

const sameSlot = (a: PlanEntry, b: PlanEntry) =>
  a.file === b.file ||
  (a.kind === b.kind && a.steps === b.steps && a.budget === b.budget && (a.space ?? 'output') === (b.space ?? 'output')
    && (a.phi ?? 'paper') === (b.phi ?? 'paper'));

/**
 * Adds plan entries to <dir>/manifest.json, replacing entries for the same file or the same
 * (kind, steps, budget, space). Edits the raw JSON so fields this version does not know survive.
 */
export async function addPlansToManifest(dir: string, entries: readonly PlanEntry[]): Promise<PlanEntry[]> {
  const path = join(dir, MANIFEST_FILE);
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const old = Array.isArray(json['plans']) ? (json['plans'] as PlanEntry[]) : [];
  const plans = [...old.filter((p) => !entries.some((e) => sameSlot(p, e))), ...entries];
  plans.sort((a, b) => a.kind.localeCompare(b.kind) || a.steps - b.steps || (a.budget ?? 0) - (b.budget ?? 0));
  json['plans'] = plans;
  await writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`);
  return plans;
}

/** Plans hold float32-sized data (φ, a, b): 7 significant digits keep every bit that matters and
 *  halve the file (hidden-space plans carry 2 × D numbers per reused step). */
const roundFloat = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(7)) : v);

/** Writes one plan file (atomically) and returns its manifest entry; named by its budget and space. */
export async function writePlanFile(dir: string, plan: CachePlan): Promise<PlanEntry> {
  const space = plan.kind === 'ertacache' ? plan.rectification?.space : undefined;
  const phi = plan.kind === 'ertacache' && plan.phiMode === 'lsq' ? plan.phiMode : undefined;
  const file = planFileName(plan.kind, plan.steps, plan.budget, space, phi);
  await writeFileAtomic(join(dir, file), `${JSON.stringify(plan, roundFloat)}\n`);
  const entry: PlanEntry = { file, kind: plan.kind, steps: plan.steps, budget: plan.budget };
  if (space === 'hidden') entry.space = space;
  if (phi === 'lsq') entry.phi = phi;
  return entry;
}
