import { runService } from '@parley/runtime';
import { readConfig } from './config.ts';
import { start } from './main.ts';

runService({ name: 'gateway', readConfig, start });
