import { testRuleTables } from './harness.js';
import { REGISTRY_RULES } from './tables/registry.js';

testRuleTables('registry rules', REGISTRY_RULES);
