import { testRuleTables } from './harness.js';
import { MSI_RULES } from './tables/msi.js';

testRuleTables('MSI rules', MSI_RULES);
