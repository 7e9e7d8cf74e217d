// FAULTLINE_BREAK for the layer-2 suite: the daemons and workers these tests start are separate
// processes, so the switches named there are written into their config (freshConfig does it for every
// daemon) or options here. Same contract and parser as suites/l1's brokenSwitches (media-cache's
// `unsafeFromBreaks`): comma-separated names of media-cache `unsafe` switches, each turning one
// protection off so `faultline verify` can show the cell turns red.
import { type UnsafeConfig, unsafeFromBreaks } from 'media-cache';

/** The `unsafe` switches FAULTLINE_BREAK names, each true; an unknown name is an error. */
export function brokenSwitches(env: string | undefined = process.env.FAULTLINE_BREAK): Partial<UnsafeConfig> {
  return unsafeFromBreaks(env);
}
