#include "trace/fiber.h"

#include <ucontext.h>

#include <cstdint>
#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#define MV_FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MV_FIBER_ASAN 1
#endif
#endif
#ifdef MV_FIBER_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace mv::trace {

struct Fiber::Context {
  ucontext_t fiber{};
  ucontext_t caller{};
  // AddressSanitizer: the stack being left, and the caller's stack bounds.
  void* fake_stack = nullptr;
  const void* caller_bottom = nullptr;
  std::size_t caller_size = 0;
};

namespace {

thread_local Fiber* g_current = nullptr;

#ifdef MV_FIBER_ASAN
void start_switch(void** fake_stack, const void* bottom, std::size_t size) {
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
}
void finish_switch(void* fake_stack, const void** bottom, std::size_t* size) {
  __sanitizer_finish_switch_fiber(fake_stack, bottom, size);
}
#else
void start_switch(void**, const void*, std::size_t) {}
void finish_switch(void*, const void**, std::size_t*) {}
#endif

}  // namespace

Fiber::Fiber(Body body, std::size_t stack_bytes)
    : body_(std::move(body)),
      owned_stack_(new char[stack_bytes]),
      stack_(owned_stack_.get()),
      stack_bytes_(stack_bytes),
      context_(std::make_unique<Context>()) {
  init();
}

Fiber::Fiber(Body body, char* stack, std::size_t stack_bytes)
    : body_(std::move(body)),
      stack_(stack),
      stack_bytes_(stack_bytes),
      context_(std::make_unique<Context>()) {
  init();
}

void Fiber::init() {
  if (getcontext(&context_->fiber) != 0) throw std::runtime_error("getcontext failed");
  context_->fiber.uc_stack.ss_sp = stack_;
  context_->fiber.uc_stack.ss_size = stack_bytes_;
  context_->fiber.uc_link = nullptr;
  auto self = reinterpret_cast<std::uintptr_t>(this);
  makecontext(&context_->fiber, reinterpret_cast<void (*)()>(&Fiber::entry), 2,
              static_cast<unsigned>(self >> 32), static_cast<unsigned>(self & 0xffffffffu));
}

// A suspended fiber's frames are dropped with its stack, not unwound: what
// they own leaks. Callers finish their fibers first.
Fiber::~Fiber() = default;

Fiber* Fiber::current() { return g_current; }

void Fiber::entry(unsigned hi, unsigned lo) {
  auto* self = reinterpret_cast<Fiber*>((static_cast<std::uintptr_t>(hi) << 32) | lo);
  finish_switch(nullptr, &self->context_->caller_bottom, &self->context_->caller_size);
  self->run_body();
  self->finished_ = true;
  // Back to the last resume() for good: its context is the caller's.
  start_switch(nullptr, self->context_->caller_bottom, self->context_->caller_size);
  setcontext(&self->context_->caller);
}

void Fiber::run_body() {
  try {
    body_();
  } catch (...) {
    error_ = std::current_exception();
  }
}

void Fiber::resume() {
  if (finished_) throw std::logic_error("Fiber::resume: the fiber has finished");
  if (g_current == this) throw std::logic_error("Fiber::resume: from inside the fiber");
  Fiber* outer = g_current;
  g_current = this;
  started_ = true;
  void* fake = nullptr;
  start_switch(&fake, stack_, stack_bytes_);
  swapcontext(&context_->caller, &context_->fiber);
  finish_switch(fake, nullptr, nullptr);
  g_current = outer;
  if (error_) {
    auto error = error_;
    error_ = nullptr;
    std::rethrow_exception(error);
  }
}

void Fiber::suspend() {
  Fiber* self = g_current;
  if (!self) throw std::logic_error("Fiber::suspend: not inside a fiber");
  Context& c = *self->context_;
  start_switch(&c.fake_stack, c.caller_bottom, c.caller_size);
  swapcontext(&c.fiber, &c.caller);
  finish_switch(c.fake_stack, &c.caller_bottom, &c.caller_size);
}

}  // namespace mv::trace
