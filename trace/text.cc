#include "trace/text.h"

#include <cstdint>

#include <fmt/format.h>

namespace mv::trace {

namespace {

struct Decoded {
  std::size_t length = 0;  // 0: ill-formed at this byte
  char32_t code_point = 0;
};

// One UTF-8 sequence at `at` (RFC 3629 table 3-7 of Unicode: the second byte's
// range depends on the first, which excludes overlong forms and surrogates).
Decoded decode(std::string_view s, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  const std::uint8_t b0 = byte(at);
  if (b0 < 0x80) return {1, b0};
  std::size_t length = 0;
  std::uint8_t low = 0x80, high = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;
    if (b0 == 0xED) high = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;
  } else {
    return {};
  }
  if (at + length > s.size()) return {};
  char32_t cp = b0 & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    const std::uint8_t b = byte(at + i);
    const std::uint8_t lo = i == 1 ? low : 0x80, hi = i == 1 ? high : 0xBF;
    if (b < lo || b > hi) return {};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {length, cp};
}

bool is_control(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

}  // namespace

bool valid_utf8(std::string_view bytes) {
  for (std::size_t at = 0; at < bytes.size();) {
    auto d = decode(bytes, at);
    if (d.length == 0) return false;
    at += d.length;
  }
  return true;
}

std::string printable(std::string_view bytes, std::size_t max_bytes) {
  std::string out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    auto d = decode(bytes, at);
    const std::size_t length = d.length == 0 ? 1 : d.length;
    if (at + length > max_bytes) break;
    if (d.length == 0 || is_control(d.code_point)) {
      for (std::size_t i = 0; i < length; ++i)
        out += fmt::format("\\x{:02X}", static_cast<std::uint8_t>(bytes[at + i]));
    } else {
      out.append(bytes.substr(at, length));
    }
    at += length;
  }
  if (at < bytes.size()) out += "...";
  return out;
}

std::string character_problem(std::string_view name) {
  for (std::size_t at = 0; at < name.size();) {
    auto d = decode(name, at);
    if (d.length == 0)
      return fmt::format("byte \\x{:02X} at byte {} is not UTF-8", static_cast<std::uint8_t>(name[at]),
                         at);
    if (is_control(d.code_point))
      return fmt::format("control character {} at byte {}", printable(name.substr(at, d.length)), at);
    at += d.length;
  }
  return {};
}

}  // namespace mv::trace
