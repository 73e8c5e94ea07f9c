// Where memcg-verify reads a file the user named (a trace, a scenario's
// expectation, a shard report, a design matrix) and the name is a
// directory: said so, as "PATH: is a directory, not a trace file" (exit 2),
// before a stream reads it. A directory opens as an input stream on Linux;
// reading it then fails with EISDIR, which libstdc++ reports as a
// "basic_filebuf::underflow" exception that names neither the file nor the
// cause. Other kinds of files (a FIFO, /dev/stdin, a shell's <(...)) are read
// as streams, as they should be.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace mv::trace {

// "is a directory, not WHAT" ("a trace file") when `path` names a directory, else "".
inline std::string directory_problem(const std::filesystem::path& path, std::string_view what) {
  std::error_code ignored;
  if (!std::filesystem::is_directory(path, ignored)) return {};
  return "is a directory, not " + std::string(what);
}

}  // namespace mv::trace
