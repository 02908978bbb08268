// What actions/setup-node does when the requested Node is already in the runner's tool cache (src/main.ts and
// the cached branch of src/installer.ts, actions/setup-node@00e1b6691b40cce14b5078cb411dd1ec7dab07f7): find the
// version in RUNNER_TOOL_CACHE, add its bin to the PATH, then print `node`, `npm` and `yarn --version` side by
// side and set the node-version output. Its own code and dependencies, not its ncc bundle: see bench/README.md.
import * as core from '@actions/core';
import * as exec from '@actions/exec';
import * as tc from '@actions/tool-cache';
import os from 'node:os';
import path from 'node:path';

const version = core.getInput('node-version');
const toolPath = tc.find('node', version, os.arch());
if (!toolPath) {
  core.setFailed(`Node ${version} is not in the tool cache ${process.env.RUNNER_TOOL_CACHE}`);
  process.exit(1);
}
core.info(`Found in cache @ ${toolPath}`);
core.addPath(path.join(toolPath, 'bin'));
core.startGroup('Environment details');
await Promise.all(['node', 'npm', 'yarn'].map(async tool => {
  let out = '';
  try {
    const r = await exec.getExecOutput(tool, ['--version'], {ignoreReturnCode: true, silent: true});
    out = r.exitCode > 0 ? '' : r.stdout.trim();
  } catch {
    // setup-node prints an empty version for a tool that is not there (yarn, here)
  }
  if (tool === 'node') core.setOutput('node-version', out);
  core.info(`${tool}: ${out}`);
}));
core.endGroup();
