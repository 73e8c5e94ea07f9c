#include "cli/generated_file.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include <fmt/format.h>

#include "trace/input_file.h"

namespace mv::cli {

std::string read_file(const std::string& path, bool& ok) {
  ok = false;
  if (!trace::directory_problem(path, "a file").empty()) return {};
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool write_file(const std::string& path, const std::string& text) {
  if (auto dir = std::filesystem::path(path).parent_path(); !dir.empty())
    std::filesystem::create_directories(dir);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

int check_generated(const std::string& path, const std::string& text, const std::string& suffix,
                    const std::string& how) {
  bool have = false;
  const std::string current = read_file(path, have);
  if (have && current == text) {
    std::cout << fmt::format("{} is up to date{}\n", path, suffix);
    return 0;
  }
  std::cerr << fmt::format("{} is {}: regenerate it with {} and commit it\n", path,
                           have ? "stale" : "missing", how);
  return 1;
}

int write_generated(const std::string& command, const std::string& path, const std::string& text) {
  if (!write_file(path, text)) {
    std::cerr << fmt::format("memcg-verify {}: cannot write {}\n", command, path);
    return 2;
  }
  std::cout << fmt::format("wrote {}\n", path);
  return 0;
}

}  // namespace mv::cli
