import { readFile } from 'node:fs/promises';
import type { ProxyConfig } from './collection.ts';
import { parseBody } from './decode.ts';

/**
 * Reads a `-config` file: a JSON array in the `/populate` format. Entries are validated
 * when applied, with the same rules and messages as `/populate`.
 */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    return parseBody(text);
  } catch (error) {
    throw new Error(
      `config file ${path} is not valid JSON (${(error as Error).message}); expected a JSON array like /populate takes`,
    );
  }
}

export type { ProxyConfig };
