// The repository's scripts check Node with the same guard as the bins (plain JS, loads on any Node).
import { requireNode } from '../packages/evidence/src/node-guard.js';

requireNode('faultline');
