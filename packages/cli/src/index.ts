export type { Io } from './commands.ts';
export type { Check } from './doctor.ts';
export { doctor } from './doctor.ts';
export { main } from './main.ts';
