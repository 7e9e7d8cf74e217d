#!/usr/bin/env node
// Only the Node version guard loads before the check, so an old Node gets one clear line.
import { requireNode } from '@faultline/evidence/node-guard';

requireNode('faultline-toxiproxy');
await import('../dist/bin.js');
