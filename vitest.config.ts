import { defineConfig } from 'vitest/config';

const pkg = (name: string) => ({
  extends: true as const,
  test: { name, include: [`packages/${name}/test/**/*.test.ts`] },
});

export default defineConfig({
  resolve: { conditions: ['@meshless/source'] },
  ssr: { resolve: { conditions: ['@meshless/source'] } },
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      pkg('core'),
      pkg('express'),
      pkg('fastify'),
      pkg('testing'),
      {
        extends: true,
        test: { name: 'examples', include: ['examples/*/test/**/*.test.ts'] },
      },
    ],
  },
});
