#!/usr/bin/env node
// The CLI entry. airlock's sources are TypeScript run directly by Node 24 (type stripping).
import '../src/cli/main.ts';
