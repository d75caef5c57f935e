/** The dashboard's named options (`--set dashboard.<option>=…`). */
import { defineOptions, type OptionValues } from '../../options/index.ts';

export const dashboardOptions = defineOptions('dashboard', {
  requestsKept: { kind: 'count', default: 500, min: 1, max: 100_000, doc: 'the dashboard\'s request inspector: how many of the latest answered predictions and feedback it keeps (recorded only while a dashboard is open; bodies cut at 16 KiB)' },
  requestsPerSecond: { kind: 'count', default: 1000, min: 1, max: 1_000_000, doc: 'the dashboard\'s request inspector: the most requests it records in one second; past that, the rest of the second\'s are not kept (what keeps an open dashboard cheap under load)' },
});

export type DashboardOptions = OptionValues<typeof dashboardOptions.table>;
