// The wake-up of the claim loop: the loop waits on one promise at a time, settled by a NOTIFY of new
// work, a freed slot, a written outcome, or its own timer, whichever comes first. A wake-up with no
// one waiting is not kept: the loop looks for work before it waits again.

export class Wake {
  private waiter: (() => void) | null = null;

  /** Ends the current wait now, if there is one. */
  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Waits until wake() or `ms`, whichever is first. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve();
      }, ms);
      this.waiter = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
