/**
 * execa, imported on first use: loading it takes ~0.17 s, and a run whose
 * image is already built starts no command from this package.
 */
export async function loadExeca(): Promise<(typeof import('execa'))['execa']> {
  return (await import('execa')).execa;
}
