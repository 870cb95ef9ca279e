import { HangarError } from './errors.js';

/** Parses the JSON text of a file; the error names the file, the problem and what to do next. */
export function parseJsonFile(text: string, path: string, whatToDo: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HangarError(
      'invalid_request',
      `${path} is not JSON (${(error as Error).message}); ${whatToDo}`,
    );
  }
}
