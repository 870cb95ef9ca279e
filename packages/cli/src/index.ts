export { main } from './main.js';
export { processIo, type Io } from './io.js';
export { parseArgs, type ArgSpec, type FlagSpec, type ParsedArgs } from './args.js';
export {
  credentialSearchPath,
  hangarHome,
  readCredentialsFile,
  resolveCredentials,
  writeCredentialsFile,
  type ResolvedCredentials,
  type StoredCredentials,
} from './credentials.js';
export { HttpClient, errorFromResponse } from './http-client.js';
export { runExecStream, exitCodeOf, type ExecExit, type ExecRequest } from './exec-stream.js';
export { UsageError } from './errors.js';
