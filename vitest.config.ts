import { defineConfig } from 'vitest/config';

/** Vitest runs every level of test: unit, infrastructure (template + ASL), integration (dynalite, fauxqs, sandboxes). */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
