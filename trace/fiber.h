// A fiber: a function on its own stack that stops in the middle and is
// resumed later, on the same OS thread (ucontext). The race traces and the
// explorer run each operation (or each simulated CPU) as one, so that an
// operation can be preempted at a point deep inside a model's call stack and
// others can run meanwhile, with no real concurrency: every interleaving is
// exactly the one asked for.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>

namespace mv::trace {

class Fiber {
 public:
  using Body = std::function<void()>;
  static constexpr std::size_t kDefaultStackBytes = 256 * 1024;

  explicit Fiber(Body body, std::size_t stack_bytes = kDefaultStackBytes);
  // On a stack the caller owns (and reuses: the explorer runs many fibers).
  Fiber(Body body, char* stack, std::size_t stack_bytes);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the fiber until it suspends or its body returns. An exception the
  // body threw is rethrown here, once. Never call it on a finished fiber or
  // from inside the fiber itself.
  void resume();
  // From inside a running fiber: back to the context that resumed it.
  static void suspend();
  // The fiber running now, or null outside any.
  static Fiber* current();

  bool finished() const { return finished_; }
  bool started() const { return started_; }

 private:
  struct Context;
  static void entry(unsigned hi, unsigned lo);
  void run_body();
  void init();

  Body body_;
  std::unique_ptr<char[]> owned_stack_;
  char* stack_;
  std::size_t stack_bytes_;
  std::unique_ptr<Context> context_;
  bool started_ = false;
  bool finished_ = false;
  std::exception_ptr error_;
};

}  // namespace mv::trace
