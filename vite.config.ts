import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The renderer build (`npm run build`): renderer/ → dist/renderer, served by Electron's app:// protocol and by
 * `trendflow serve`. Relative asset URLs work under both; no inline scripts or styles, so the CSP can forbid them.
 */
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: true,
    // inlined assets would need data: URLs in the CSP
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
});
