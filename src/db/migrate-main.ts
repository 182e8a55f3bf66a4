/** `npm run db:migrate`: create the database if needed, apply migrations, write the limits and quota tables. */
import { effectiveLimits, effectiveQuotas, loadEnv } from '../config/env';
import { migrateDatabase } from './migrate';

const env = loadEnv();
migrateDatabase(env.DATABASE_URL, effectiveLimits(env), effectiveQuotas(env)).then(
  () => console.log(`database ready at ${new URL(env.DATABASE_URL).host}${new URL(env.DATABASE_URL).pathname}`),
  (err: Error) => {
    console.error(`db:migrate: ${err.message}`);
    process.exit(1);
  },
);
