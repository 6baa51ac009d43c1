import { testRuleTables } from './harness.js';
import { OS_RULES } from './tables/os.js';

testRuleTables('OS, machine, WMI and device rules', OS_RULES);
