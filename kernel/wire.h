// A compact binary encoding of the values that cross between a model running
// in a child process and its proxy (kernel/isolated_model.h): operations,
// configurations, snapshots. Little-endian fixed-width integers; a reader
// that finds less than it needs throws (a truncated or corrupt frame).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "spec/operation.h"
#include "spec/profile.h"
#include "spec/snapshot.h"

namespace mv::kernel::wire {

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { raw(&v, sizeof v); }
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  void i64(std::int64_t v) { raw(&v, sizeof v); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void string(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
  std::uint32_t u32() { return raw<std::uint32_t>(); }
  std::uint64_t u64() { return raw<std::uint64_t>(); }
  std::int64_t i64() { return raw<std::int64_t>(); }
  bool boolean() { return u8() != 0; }
  std::string string() {
    auto n = u32();
    return std::string(take(n));
  }
  // A count of items that follow, each at least one byte: larger than what
  // is left means a corrupt frame, not a huge allocation.
  std::uint32_t count() {
    auto n = u32();
    if (n > in_.size() - pos_) throw std::runtime_error("corrupt frame: count past the end");
    return n;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view take(std::size_t n) {
    if (in_.size() - pos_ < n) throw std::runtime_error("truncated frame");
    auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  template <class T>
  T raw() {
    T v;
    auto s = take(sizeof v);
    std::memcpy(&v, s.data(), sizeof v);
    return v;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

void put(Writer& w, const spec::Config& config);
spec::Config get_config(Reader& r);
void put(Writer& w, const spec::Op& op);
spec::Op get_op(Reader& r);
void put(Writer& w, const spec::ObjectSnap& object);
spec::ObjectSnap get_object(Reader& r);
void put(Writer& w, const spec::Snapshot& snap);
spec::Snapshot get_snapshot(Reader& r);

}  // namespace mv::kernel::wire
