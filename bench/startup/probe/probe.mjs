#!/usr/bin/env node
// The first request of a tool started with npx: one GET to the URL given.
await (await fetch(process.argv[2])).text();
