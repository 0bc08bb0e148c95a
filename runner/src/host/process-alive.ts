/** Whether process `pid` exists (EPERM: it does, as another user's); used to sweep what dead writers left. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
