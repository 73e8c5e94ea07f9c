// Bytes a trace supplies, made safe to show: every message and report is
// valid UTF-8 with no control character, whatever the input held
// (docs/TRACE_FORMAT.md "Names"; the JSON report must always serialize).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mv::trace {

// Whether `bytes` is well-formed UTF-8 (RFC 3629: no overlong form, no
// surrogate, nothing above U+10FFFF).
bool valid_utf8(std::string_view bytes);

// `bytes` as a message may show it: each control character (C0, DEL, C1) and
// each byte that is not part of well-formed UTF-8 becomes `\xNN`; everything
// else is kept. At most `max_bytes` of `bytes` are shown, cut before a whole
// character, then "...".
std::string printable(std::string_view bytes, std::size_t max_bytes = 64);

// The first control character (C0, DEL or C1) or ill-formed byte of `name`
// as a reason ("control character \x0A at byte 3"), or empty when none.
std::string character_problem(std::string_view name);

}  // namespace mv::trace
