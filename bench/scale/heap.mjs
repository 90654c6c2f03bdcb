/** A binary min-heap of (time, id) pairs with at most one entry per id: the event queue of one location. */
export class EventHeap {
  #times;
  #ids;
  #size = 0;

  constructor(capacity) {
    this.#times = new Float64Array(Math.max(1, capacity));
    this.#ids = new Int32Array(Math.max(1, capacity));
  }

  get size() {
    return this.#size;
  }

  push(time, id) {
    let i = this.#size++;
    const times = this.#times;
    const ids = this.#ids;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= time) break;
      times[i] = times[parent];
      ids[i] = ids[parent];
      i = parent;
    }
    times[i] = time;
    ids[i] = id;
  }

  peekTime() {
    return this.#times[0];
  }

  /** Removes the earliest event and returns its id (its time is peekTime() before the call). */
  pop() {
    const times = this.#times;
    const ids = this.#ids;
    const top = ids[0];
    const n = --this.#size;
    if (n === 0) return top;
    const time = times[n];
    const id = ids[n];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && times[child + 1] < times[child]) child++;
      if (times[child] >= time) break;
      times[i] = times[child];
      ids[i] = ids[child];
      i = child;
    }
    times[i] = time;
    ids[i] = id;
    return top;
  }
}
