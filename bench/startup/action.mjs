// A JavaScript action's start: node loads the action, reads an input with @actions/core, and makes its first
// request with @actions/http-client (what @actions/github's clients sit on).
import * as core from '@actions/core';
import {HttpClient} from '@actions/http-client';

const res = await new HttpClient('bench-startup').get(core.getInput('url'));
await res.readBody();
