// Prints the one closing line CI reads, `N passed, N failed`, from vitest's JSON report.
// A test file that failed outside its tests (did not load, or a beforeAll threw so its tests
// were skipped) counts as one failure; a missing report too.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const brokenFiles = (report.testResults ?? []).filter(
    (result) => result.status === 'failed' && !(result.assertionResults ?? []).some((test) => test.status === 'failed'),
  ).length;
  const passed = report.numPassedTests ?? 0;
  const failed = (report.numFailedTests ?? 0) + brokenFiles;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
} catch (error) {
  console.error(`no test report at ${file}: ${error.message}`);
  console.log('0 passed, 1 failed');
}
