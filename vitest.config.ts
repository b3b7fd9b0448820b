import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites start real processes (fail2ban, the sidecar, the HTTPS emulator);
    // a 2-core CI machine needs room, and files run in separate forks so a kill -9 test
    // cannot take a neighbour down.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
