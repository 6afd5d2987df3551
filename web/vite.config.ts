/// <reference types="vitest/config" />
// Vite: the console's build (into THREATD_CONSOLE_OUT, set by CMake to
// <build>/share/threatd/console, else dist/), the dev server with a proxy to a
// running threatd (THREATD_URL, default http://127.0.0.1:8000), and Vitest.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Node's process, typed here so the app's type check needs no @types/node.
declare const process: { env: Record<string, string | undefined> };

const target = process.env.THREATD_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: process.env.THREATD_CONSOLE_OUT ?? 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      output: {
        manualChunks: {
          react: ['react', 'react-dom', 'react-router'],
          query: ['@tanstack/react-query', 'zod'],
          charts: ['recharts'],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': target,
      '/docs': target,
      '/health': target,
      '/metrics': target,
      '/ws': { target: target.replace(/^http/, 'ws'), ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    // See src/test/setup.ts: the suite shares a small machine with the C++ tests.
    testTimeout: 30_000,
  },
});
