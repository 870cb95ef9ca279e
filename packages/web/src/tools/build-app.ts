// Builds the single-page app with Vite into dist/app, which the control plane serves at `/`.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { build } from 'vite';

const packageDir = fileURLToPath(new URL('../../../', import.meta.url));

await build({
  root: packageDir,
  configFile: false,
  logLevel: 'warn',
  plugins: [react()],
  build: { outDir: 'dist/app', emptyOutDir: true, sourcemap: false },
});
