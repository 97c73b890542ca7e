// One persistent helper thread for the binding's two-way splits (element-wise optimizer steps,
// row-wise top-k), instead of a std::thread started and joined per call: on the 2-vCPU machines
// we run on, starting and joining a thread costs ~90 µs, as much as a 160K-element Adam step,
// while the fine-tuner calls its RAdam kernel every half millisecond or so.
// Work is cut into chunks claimed in order from a shared cursor, by the calling thread and by the
// helper when it is awake: each chunk runs the same code whichever thread takes it, so results
// never depend on the split (the kernels are element- or row-wise). A helper that is asleep when
// the work arrives, or busy with another caller's work, simply leaves the chunks to the caller.
// After each piece of work the helper polls for the next one for a short while (see the .cc)
// before it sleeps on a condition variable.
#pragma once
#include <cstddef>
#include <functional>

// Runs body(lo, hi) for consecutive chunks [lo, hi) of [0, n), each `chunk` long (the last may be
// shorter), on the calling thread and, when `split` is true, the helper thread; returns when
// every chunk has run. body must be safe to run on two threads at once for different chunks.
void parallel_chunks(size_t n, size_t chunk, bool split, const std::function<void(size_t, size_t)>& body);
