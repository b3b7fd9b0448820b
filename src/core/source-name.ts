/**
 * Names of fleet sources (issue 13): what a log pattern's first `*` matched or a syslog HOST
 * field, so a path segment or a host name: no '/', no whitespace. '' is the unnamed source (the
 * single log of a one-host setup). One rule for the tailer, the model, the state file and the CLI.
 */

/** '' or a valid source name. */
export const SOURCE_NAME = /^[^\s/]*$/;

/** A name a source can be given (the unnamed '' is not one). */
export function isValidSourceName(name: string): boolean {
  return name !== '' && SOURCE_NAME.test(name);
}
