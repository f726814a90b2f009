// post.js — appended inside the generated module (emcc --post-js): hooks the JS layer needs into
// Emscripten's pthread runtime.

// Stops the pthreads build's Web Workers / worker_threads so a Node process can exit when done.
Module['smTerminateWorkers'] = function () {
  if (typeof PThread != 'undefined') PThread.terminateAllThreads();
};

// Makes sure `n` pthread workers are started and loaded. A browser starts a Worker only after the
// thread creating it returns to its event loop, so a pthread_create beyond the started pool, made
// inside a synchronous call (a session's thread pool), would wait forever. The JS host calls this,
// and awaits it, before creating sessions. Resolves at once in the single-thread build.
Module['smPrepareThreads'] = function (n) {
  if (typeof PThread == 'undefined') return Promise.resolve();
  var have = PThread.unusedWorkers.length + PThread.runningWorkers.length;
  var loading = [];
  for (var i = have; i < n; i++) {
    PThread.allocateUnusedWorker();
    var worker = PThread.unusedWorkers[PThread.unusedWorkers.length - 1];
    loading.push(new Promise(function (resolve) { PThread.loadWasmModuleToWorker(worker, resolve); }));
  }
  return Promise.all(loading);
};
