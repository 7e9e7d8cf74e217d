// FAULTLINE_BREAK for the layer-2 suite: the daemons and workers these tests start are separate
// processes, so the switches named there are written into their config (or options) here. Same
// contract as suites/l1's brokenSwitches: comma-separated names of media-cache `unsafe` switches,
// each turning one protection off so `faultline verify` can show the cell turns red.
import { DEFAULT_UNSAFE, type UnsafeConfig } from 'media-cache';

const SWITCHES = Object.keys(DEFAULT_UNSAFE) as Array<keyof UnsafeConfig>;

/** The `unsafe` switches FAULTLINE_BREAK names, each true; an unknown name is an error. */
export function brokenSwitches(env: string | undefined = process.env.FAULTLINE_BREAK): Partial<UnsafeConfig> {
  const out: Partial<UnsafeConfig> = {};
  for (const raw of (env ?? '').split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!(SWITCHES as string[]).includes(name)) {
      throw new Error(`FAULTLINE_BREAK: unknown switch "${name}"; known: ${SWITCHES.join(', ')}`);
    }
    out[name as keyof UnsafeConfig] = true;
  }
  return out;
}
