#!/usr/bin/env node
// The sandbar CLI. TypeScript runs through tsx's loader so `npm ci && npm start`
// needs no build step; see docs/adr/0002-run-typescript-with-tsx.md.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv.slice(2));
