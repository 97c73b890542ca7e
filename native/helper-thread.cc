// The helper thread of helper-thread.h. One piece of work at a time: a caller that finds another
// caller's work in progress runs its own alone. Each piece has a ticket (the work counter);
// `state` holds ticket·4 + phase (POSTED, TAKEN by the helper, DONE by the helper, WITHDRAWN by
// the caller), so a helper waking late can never take a finished piece or a newer one by mistake.
// The pool is allocated once and never freed: the detached helper may still be polling it while
// the process exits.
#include "helper-thread.h"
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#if defined(__x86_64__)
#include <immintrin.h>
#define CALITUNE_CPU_RELAX() _mm_pause()
#else
#define CALITUNE_CPU_RELAX() std::this_thread::yield()
#endif

namespace {

enum Phase : uint64_t { POSTED = 0, TAKEN = 1, DONE = 2, WITHDRAWN = 3 };

// How long the helper polls for more work before it sleeps. Short on purpose: polling through the
// ~0.7 ms between two RAdam steps of a fine-tuning epoch (2 ms) made those steps slower and erratic
// (0.47–1.0 s against a steady 0.55 s per 40 epochs on the 10-epoch backbone), since the polling
// helper then competes with V8's garbage-collection threads for the second core and is preempted
// inside chunks the caller must wait for. A helper woken from sleep joins a step late and takes
// the chunks that are left.
constexpr auto POLL_FOR = std::chrono::microseconds(50);

struct Pool {
  std::mutex callers;  // held by the caller whose work is in progress
  std::mutex sleepLock;
  std::condition_variable wake;
  std::atomic<bool> sleeping{false};
  std::atomic<uint64_t> ticket{0};
  std::atomic<uint64_t> state{WITHDRAWN};
  // the piece of work in progress (written by its caller before it is posted)
  const std::function<void(size_t, size_t)>* body = nullptr;
  size_t n = 0, chunk = 1;
  std::atomic<size_t> cursor{0};

  void claimChunks() {
    for (;;) {
      const size_t lo = cursor.fetch_add(chunk, std::memory_order_relaxed);
      if (lo >= n) return;
      (*body)(lo, std::min(n, lo + chunk));
    }
  }

  // Polls for a ticket other than `seen`, then sleeps until there is one; returns it.
  uint64_t awaitTicket(uint64_t seen) {
    const auto until = std::chrono::steady_clock::now() + POLL_FOR;
    for (unsigned polls = 1;; polls++) {
      const uint64_t t = ticket.load(std::memory_order_acquire);
      if (t != seen) return t;
      CALITUNE_CPU_RELAX();
      if (polls % 1024 == 0 && std::chrono::steady_clock::now() > until) break;
    }
    std::unique_lock<std::mutex> lk(sleepLock);
    sleeping.store(true);
    wake.wait(lk, [&] { return ticket.load() != seen; });
    sleeping.store(false);
    return ticket.load(std::memory_order_acquire);
  }

  [[noreturn]] void helperLoop() {
    uint64_t seen = 0;
    for (;;) {
      seen = awaitTicket(seen);
      uint64_t expect = seen * 4 + POSTED;
      if (!state.compare_exchange_strong(expect, seen * 4 + TAKEN)) continue;  // withdrawn or superseded
      claimChunks();
      state.store(seen * 4 + DONE, std::memory_order_release);
    }
  }

  // Posts the work (fields already set) and returns its ticket.
  uint64_t post() {
    const uint64_t t = ticket.load(std::memory_order_relaxed) + 1;
    state.store(t * 4 + POSTED, std::memory_order_relaxed);
    ticket.store(t);  // sequentially consistent: pairs with the helper's sleeping flag
    if (sleeping.load()) {
      std::lock_guard<std::mutex> lk(sleepLock);
      wake.notify_one();
    }
    return t;
  }

  // After the caller's own chunks: withdraws the work if the helper never took it, else waits for it.
  void finish(uint64_t t) {
    uint64_t expect = t * 4 + POSTED;
    if (state.compare_exchange_strong(expect, t * 4 + WITHDRAWN)) return;
    // a helper preempted inside a chunk can keep us a while: after a short spin, also yield
    for (unsigned polls = 1; state.load(std::memory_order_acquire) != t * 4 + DONE; polls++) {
      if (polls < 4096) CALITUNE_CPU_RELAX();
      else std::this_thread::yield();
    }
  }
};

Pool* startPool() {
  Pool* p = new Pool();
  std::thread([p] { p->helperLoop(); }).detach();
  return p;
}

}  // namespace

void parallel_chunks(size_t n, size_t chunk, bool split, const std::function<void(size_t, size_t)>& body) {
  if (chunk == 0) chunk = 1;
  if (!split || n <= chunk) {
    if (n > 0) body(0, n);
    return;
  }
  static Pool* pool = startPool();
  std::unique_lock<std::mutex> mine(pool->callers, std::try_to_lock);
  if (!mine.owns_lock()) {
    body(0, n);
    return;
  }
  pool->body = &body;
  pool->n = n;
  pool->chunk = chunk;
  pool->cursor.store(0, std::memory_order_relaxed);
  const uint64_t t = pool->post();
  pool->claimChunks();
  pool->finish(t);
}
