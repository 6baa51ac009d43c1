import { testRuleTables } from './harness.js';
import { DRIVER_RULES } from './tables/driver.js';

testRuleTables('driver rules', DRIVER_RULES);
