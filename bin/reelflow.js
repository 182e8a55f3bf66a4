#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npx reelflow ...` needs no build step.
require('tsx/cjs');
require('../src/cli/main.ts');
