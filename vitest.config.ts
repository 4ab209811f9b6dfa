import { defineConfig } from 'vitest/config';

/**
 * Vitest runs every level of test: unit, infrastructure (template + ASL), integration
 * (dynalite, fauxqs, sandboxes). The JSON report feeds the `N passed, N failed` line of `.ci/run`.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
