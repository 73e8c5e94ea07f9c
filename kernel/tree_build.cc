#include "kernel/tree_build.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace mv::kernel {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_flags(const std::string& flags) {
  std::vector<std::string> out;
  std::istringstream in(flags);
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// Runs argv; returns the exit status, with stderr and stdout in `output`.
int run(const std::vector<std::string>& argv, std::string& output) {
  int pipefd[2];
  if (pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    close(pipefd[0]);
    close(pipefd[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  char buf[4096];
  for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    output.append(buf, static_cast<std::size_t>(n));
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The compiler's first error lines (its whole output can be long).
std::string first_errors(const std::string& output) {
  std::istringstream in(output);
  std::string out, line;
  int kept = 0;
  while (std::getline(in, line) && kept < 12)
    if (line.find("error") != std::string::npos) {
      out += "\n  " + line;
      ++kept;
    }
  if (out.empty()) out.append("\n").append(output, 0, 2000);
  return out;
}

}  // namespace

// What else goes into a built model than the tree's extracted text: the
// compiler, its flags and our glue and shims (kernel/c, kernel/shim), so that
// a cached model of an unchanged tree is rebuilt when memcg-verify changed.
std::string toolchain_digest(const Toolchain& toolchain) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: a cache key
  const auto mix = [&h](const std::string& text) {
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;  // a separator: "ab","c" is not "a","bc"
  };
  mix(toolchain.c_compiler);
  for (const auto& flag : toolchain.c_flags) mix(flag);
  std::vector<fs::path> files;
  for (const char* sub : {"kernel/c", "kernel/shim"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(toolchain.source_dir / sub, ec))
      if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    mix(file.filename().string());
    mix(text.str());
  }
  return fmt::format("{:016x}", h);
}

Toolchain configured_toolchain() {
  Toolchain t;
  t.c_compiler = MV_KERNEL_C_COMPILER;
  t.c_flags = split_flags(MV_KERNEL_C_FLAGS);
  t.source_dir = MV_SOURCE_ROOT;
  const char* cache = std::getenv("MV_KERNEL_CACHE");
  t.cache_dir = cache && *cache ? fs::path(cache) : fs::path(MV_KERNEL_CACHE_DEFAULT);
  return t;
}

BuiltModel build_kernel_model(const fs::path& tree, const std::vector<extract::TextPatch>& patches,
                              const Toolchain& toolchain) {
  auto extracted = extract::extract_tree(fs::absolute(tree), patches);
  BuiltModel built;
  built.version = extracted.version;
  built.digest = extract::digest_of(extracted);
  built.names = extracted.names;
  const fs::path dir = toolchain.cache_dir / (built.digest + "-" + toolchain_digest(toolchain));
  built.module = dir / "kernel-model.so";
  if (fs::is_regular_file(built.module)) {
    built.from_cache = true;
    return built;
  }
  extract::write_extracted(extracted, dir);
  const fs::path partial = dir / fmt::format("kernel-model.so.{}", getpid());
  std::vector<std::string> argv{toolchain.c_compiler};
  argv.insert(argv.end(), toolchain.c_flags.begin(), toolchain.c_flags.end());
  for (const auto& inc : {toolchain.source_dir, dir}) argv.push_back("-I" + inc.string());
  argv.insert(argv.end(), {"-shared", "-o", partial.string(), (toolchain.source_dir / "kernel/c/model.c").string()});
  std::string output;
  const int status = run(argv, output);
  if (status != 0) {
    fs::remove(partial);
    throw std::runtime_error(fmt::format(
        "the kernel model of {} (Linux {}) does not compile with {} (exit {}); generated sources in {}:{}",
        tree.string(), built.version.text(), toolchain.c_compiler, status, dir.string(), first_errors(output)));
  }
  fs::rename(partial, built.module);  // atomic: a concurrent build sees all or nothing
  return built;
}

fs::path default_kernel_model() { return MV_KERNEL_DEFAULT_MODULE; }
fs::path default_kernel_tree() { return MV_KERNEL_DEFAULT_TREE; }

}  // namespace mv::kernel
