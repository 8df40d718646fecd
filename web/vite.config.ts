import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The web app: built into web/dist (npm run build:web), served by the API at / on the same port.
// `npm run dev:web` proxies /api to a running server (FU_API_URL, default http://127.0.0.1:3000).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1200 },
  server: { proxy: { '/api': process.env.FU_API_URL ?? 'http://127.0.0.1:3000' } },
});
