// Power loss after a kill wave: workers journal their fs operations through the preload, and
// the wave ends by rewinding their tree to its durable state before verify. A writer without
// the fsync before its rename, or without the directory fsync after it, passes plain SIGKILL
// waves (the page cache survives a kill) and must be caught once the power goes too.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureEvidence } from '@faultline/evidence';
import { afterEach, describe, expect, test } from 'vitest';
import {
  checkDurability,
  installOrphanGuard,
  journalLength,
  maxValue,
  powerLoss,
  readJsonNumber,
  runWaves,
  spawnManaged,
  type Violation,
  type WavesReport,
} from '../src/index.ts';
import { PowerLoss, powerLossPreloadPath } from '../src/power-loss.ts';
import { fixture, tempDir } from './helpers.ts';

installOrphanGuard(afterEach);

const WORKERS = 2;
type Role = 'atomic' | 'atomic-async' | 'atomic-stream' | 'no-fsync' | 'no-dirsync';

async function waves(role: Role, withPowerLoss: boolean, count = 2): Promise<WavesReport> {
  const tmp = tempDir();
  const data = join(tmp.dir, 'data');
  mkdirSync(data);
  const power = withPowerLoss ? powerLoss({ root: data, journalDir: join(tmp.dir, 'pl') }) : undefined;
  const checkpoint = (i: number) => join(data, `checkpoint-${i}.json`);
  const journal = (wave: number, i: number) => join(tmp.dir, `journal-${i}-wave${wave}.log`);
  const previous: Array<number | undefined> = [];
  try {
    return await runWaves({
      waves: count,
      seed: 7,
      when: { randomMs: [50, 200] },
      ...(power === undefined ? {} : { powerLoss: power }),
      spawn: (wave) =>
        Array.from({ length: WORKERS }, (_, i) =>
          spawnManaged(
            { self: fixture('power-loss-writer.ts'), role: role },
            [checkpoint(i), journal(wave, i), `${wave * 1_000_000}`],
            {
              name: `${role}-${i}`,
              ...(power === undefined ? {} : { powerLoss: power }),
            },
          ),
        ),
      progress: (i, _w, wave) => journalLength(journal(wave, i)),
      verify: (wave) => {
        const found: Violation[] = [];
        for (let i = 0; i < WORKERS; i++) {
          const stored = readJsonNumber(checkpoint(i), 'seq');
          found.push(
            ...checkDurability({
              subject: `${role}-${i} checkpoint`,
              stored,
              journaled: maxValue(journal(wave, i)),
              previous: previous[i],
            }),
          );
          if (stored.state === 'ok') previous[i] = stored.value;
        }
        return found;
      },
    });
  } finally {
    power?.dispose();
    tmp.cleanup();
  }
}

describe('kill waves with power loss', () => {
  test('a temp + fsync + rename + directory fsync writer keeps every acknowledged seq (sync, promise and stream APIs)', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      for (const role of ['atomic', 'atomic-async', 'atomic-stream'] as const) {
        const report = await waves(role, true);
        expect(report.violations, report.violations.map((v) => v.detail).join('\n')).toEqual([]);
        expect(report.waves.every((w) => w.powerLoss !== undefined && w.powerLoss.ops > 0)).toBe(true);
      }
      expect(log.entries.some((e) => e.kind === 'power-loss' && e.source === '@faultline/crash')).toBe(true);
    } finally {
      restore();
    }
  });

  test('without the fsync before the rename: green under SIGKILL alone, caught torn after a power loss', async () => {
    const killOnly = await waves('no-fsync', false);
    expect(killOnly.violations).toEqual([]); // the blind spot: the page cache survived the kill
    const report = await waves('no-fsync', true, 1);
    expect(report.violations.map((v) => v.kind)).toContain('torn');
    expect(report.waves[0]!.powerLoss!.rolledBack.length).toBeGreaterThan(0);
  });

  test('without the directory fsync after the rename: caught losing acknowledged seqs after a power loss', async () => {
    const report = await waves('no-dirsync', true, 1);
    expect(report.violations.length).toBeGreaterThan(0);
    expect(report.waves[0]!.powerLoss!.renamesUndone.length).toBeGreaterThan(0);
  });

  test('the preload ships as plain JavaScript next to the module; the journal must live outside the root', () => {
    expect(powerLossPreloadPath).toMatch(/power-loss-preload\.js$/);
    expect(readFileSync(powerLossPreloadPath, 'utf8')).toContain('FAULTLINE_POWER_LOSS');
    const tmp = tempDir();
    try {
      expect(() => new PowerLoss({ root: tmp.dir, journalDir: join(tmp.dir, 'inside') })).toThrow(
        expect.objectContaining({ kind: 'usage', message: expect.stringMatching(/inside the tracked root/) }),
      );
      const p = powerLoss({ root: tmp.dir });
      expect(p.env().NODE_OPTIONS).toContain('--import');
      p.dispose();
      expect(readdirSync(tmp.dir)).toEqual(['inside']);
    } finally {
      tmp.cleanup();
    }
  });
});
