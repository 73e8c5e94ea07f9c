// mv-kernel-extract: the build-time side of the extractor.
//   mv-kernel-extract TREE OUTDIR        cut the definitions out of TREE into OUTDIR
//   mv-kernel-extract --unpack TARBALL DIR
//                                        unpack only the files the extractor reads
//                                        (a source tarball whose top folder is
//                                        named like the tarball, e.g.
//                                        linux-source-6.1.tar.xz)
// Prints the tree's version and profile; exit 2, naming the missing
// definition or file, when the tree lacks one.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kernel/extract/extract.h"

namespace fs = std::filesystem;

namespace {

int unpack(const fs::path& tarball, const fs::path& dir) {
  std::string top = tarball.filename().string();
  if (auto pos = top.find(".tar"); pos != std::string::npos) top.resize(pos);
  fs::create_directories(dir);
  std::vector<std::string> argv{"tar", "-xf", tarball.string(), "-C", dir.string(), "--strip-components=1"};
  for (const auto& f : mv::kernel::extract::tree_files()) argv.push_back(top + "/" + f);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execvp("tar", args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << fmt::format("mv-kernel-extract: tar could not unpack the kernel model's files from {} "
                             "(expected them under {}/)\n",
                             tarball.string(), top);
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "--unpack") return unpack(args[1], args[2]);
  if (args.size() != 2) {
    std::cerr << "usage: mv-kernel-extract TREE OUTDIR | --unpack TARBALL DIR\n";
    return 2;
  }
  try {
    auto extracted = mv::kernel::extract::extract_tree(args[0]);
    mv::kernel::extract::write_extracted(extracted, args[1]);
    std::cout << fmt::format("kernel tree {}: Linux {} (profile {}), {} definitions extracted\n", args[0],
                             extracted.version.text(), extracted.version.profile_name(),
                             extracted.names.size());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mv-kernel-extract: " << e.what() << "\n";
    return 2;
  }
}
