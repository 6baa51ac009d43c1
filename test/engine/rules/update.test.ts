import { testRuleTables } from './harness.js';
import { UPDATE_RULES } from './tables/update.js';

testRuleTables('update-era rules (product releases, device attributes, appx)', UPDATE_RULES);
