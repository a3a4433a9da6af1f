import { database } from "../db/client";
import { addCronJob, schedules } from "../registry";
import { snapshotAllPrograms } from "../services/kpis";

// One KPI snapshot per program per day (the day that just ended), for the trend charts.
addCronJob(schedules.nightly, { name: "kpis.snapshot", run: ({ env, now }) => snapshotAllPrograms(database(env), now) });
