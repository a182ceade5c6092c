// Gathers the calls that arrive in the same turn of the event loop and runs them as one batch: one
// statement, one round trip and one commit for many requests. Each caller gets its own result (or
// the batch's error) only when the batch has run.
export class Batcher<In, Out> {
  private queue: Array<{ input: In; resolve(out: Out): void; reject(err: unknown): void }> = [];
  private scheduled = false;
  private readonly run: (inputs: In[]) => Promise<Array<Out | Promise<Out>>>;
  private readonly max: number;

  /**
   * `run` answers each input in order (an answer may itself be a promise, for an input it had to
   * handle on its own); it gets at most `max` inputs at a time.
   */
  constructor(run: (inputs: In[]) => Promise<Array<Out | Promise<Out>>>, max: number) {
    this.run = run;
    this.max = max;
  }

  call(input: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.max);
      this.run(batch.map((b) => b.input)).then(
        (outs) => batch.forEach((b, i) => { Promise.resolve(outs[i]).then(b.resolve, b.reject); }),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      );
    }
  }
}
