import { mkdirSync } from 'node:fs';
import path from 'node:path';

/** Test-wide setup: a scratch folder for generated fixtures (git-ignored; nothing large lives in git). */
export default function setup(): void {
  mkdirSync(path.join(import.meta.dirname, '.generated'), { recursive: true });
}
