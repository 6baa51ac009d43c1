import { testRuleTables } from './harness.js';
import { FILE_RULES } from './tables/file.js';

testRuleTables('file rules', FILE_RULES);
