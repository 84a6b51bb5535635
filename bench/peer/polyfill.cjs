// Promise.withResolvers (ES2024) for Node 20: PostGraphile 5 calls it, and Node has it
// only from 22. Preloaded with `node --require ./polyfill.cjs`, before any module loads.
"use strict";
if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve, reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
