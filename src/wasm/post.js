// post.js — appended inside the generated module (emcc --post-js): lets the JS layer stop the
// pthreads build's Web Workers / worker_threads so a Node process can exit when it is done.
Module['smTerminateWorkers'] = function () {
  if (typeof PThread != 'undefined') PThread.terminateAllThreads();
};
