#include "kernel/extract/extract.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "kernel/extract/c_source.h"

namespace mv::kernel::extract {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool is_wrapped(const std::string& name) {
  const auto& w = wrapped_functions();
  return std::find(w.begin(), w.end(), name) != w.end();
}

std::string kernel_name(const std::string& name) { return "mvk_kernel_" + name; }

// `#if A && B` ... `#endif` around `body` when the chunk sits under conditions.
std::string guarded(const Chunk& c, const std::string& body) {
  if (c.conditions.empty()) return body;
  std::string cond;
  for (const auto& k : c.conditions) cond += fmt::format("{}({})", cond.empty() ? "" : " && ", k);
  return fmt::format("#if {}\n{}\n#endif\n", cond, body);
}

std::string with_line(const Chunk& c, const std::string& path, const std::string& text) {
  return fmt::format("#line {} \"{}\"\n{}\n", c.line, path, text);
}

// The wrapper that keeps NAME for every caller and calls the renamed kernel
// definition between the glue's hooks.
std::string wrapper_of(const Chunk& c) {
  auto names = parameter_names(c.params);
  std::string args;
  for (const auto& n : names) args += fmt::format("{}{}", args.empty() ? "" : ", ", n);
  const auto head_tokens = c_tokens(c.head);
  bool returns_void = !head_tokens.empty() && head_tokens.back() == "void";
  std::string ret_type = c.head;
  for (const char* spec : {"static ", "inline ", "__always_inline ", "noinline "})
    for (auto pos = ret_type.find(spec); pos != std::string::npos; pos = ret_type.find(spec))
      ret_type.erase(pos, std::string(spec).size());
  std::string body;
  body += fmt::format("{} {}({})\n{{\n", c.head, c.name, c.params);
  body += fmt::format("\tmvk_before_{}({});\n", c.name, args);
  if (returns_void) {
    body += fmt::format("\t{}({});\n", kernel_name(c.name), args);
    body += fmt::format("\tmvk_after_{}({});\n", c.name, args);
  } else {
    body += fmt::format("\t{} mvk_ret = {}({});\n", ret_type, kernel_name(c.name), args);
    body += fmt::format("\tmvk_after_{}(mvk_ret{}{});\n", c.name, args.empty() ? "" : ", ", args);
    body += "\treturn mvk_ret;\n";
  }
  body += "}\n";
  return body;
}

struct Selected {
  Chunk chunk;
  std::string path;
  std::string text;  // after patches and renaming
};

}  // namespace

std::string TreeVersion::text() const {
  return fmt::format("{}.{}.{}{}", version, patchlevel, sublevel, extraversion);
}

std::string TreeVersion::profile_name() const { return fmt::format("v{}.{}", version, patchlevel); }

TreeVersion read_tree_version(const fs::path& tree) {
  const auto makefile = tree / "Makefile";
  if (!fs::is_regular_file(makefile))
    throw std::runtime_error(fmt::format(
        "{}: not a kernel tree (no top Makefile to read VERSION/PATCHLEVEL/SUBLEVEL from)",
        tree.string()));
  std::istringstream in(read_file(makefile));
  TreeVersion v;
  bool have_version = false, have_patchlevel = false;
  static const std::regex line_re(R"(^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)\s*$)");
  std::string line;
  for (int n = 0; std::getline(in, line) && n < 40; ++n) {
    std::smatch m;
    if (!std::regex_match(line, m, line_re)) continue;
    const std::string key = m[1], value = m[2];
    try {
      if (key == "VERSION") v.version = std::stoi(value), have_version = true;
      else if (key == "PATCHLEVEL") v.patchlevel = std::stoi(value), have_patchlevel = true;
      else if (key == "SUBLEVEL") v.sublevel = value.empty() ? 0 : std::stoi(value);
      else v.extraversion = value;
    } catch (const std::exception&) {
      throw std::runtime_error(fmt::format("{}: {} = {} is not a number", makefile.string(), key, value));
    }
  }
  if (!have_version || !have_patchlevel)
    throw std::runtime_error(fmt::format("{}: no VERSION/PATCHLEVEL lines (not a kernel Makefile?)",
                                         makefile.string()));
  return v;
}

Extracted extract_tree(const fs::path& tree, const std::vector<TextPatch>& patches) {
  Extracted out;
  out.version = read_tree_version(tree);
  std::vector<bool> patch_used(patches.size(), false);
  std::vector<Selected> types, objects, functions;
  std::set<std::string> struct_tags;

  for (const auto& sel : manifest()) {
    const auto path = tree / sel.path;
    if (!fs::is_regular_file(path))
      throw std::runtime_error(fmt::format("{}: missing from the tree {} ({}): the kernel model needs "
                                           "it for {}",
                                           sel.path, tree.string(), out.version.text(), sel.why));
    const std::string text = read_file(path);
    const SourceFile file = split_source(sel.path, text);
    std::set<const Chunk*> chosen;
    if (sel.all) {
      for (const auto& c : file.chunks)
        if (c.kind != ChunkKind::prototype && c.kind != ChunkKind::other) chosen.insert(&c);
    } else {
      for (auto entry : sel.names) {
        // "a|b": the generations name it differently; whichever the tree has.
        // "a?": only some generations have it.
        const bool optional = !entry.empty() && entry.back() == '?';
        if (optional) entry.pop_back();
        std::vector<const Chunk*> found;
        for (std::size_t begin = 0; begin <= entry.size();) {
          auto end = std::min(entry.find('|', begin), entry.size());
          auto some = find_chunks(file, entry.substr(begin, end - begin));
          found.insert(found.end(), some.begin(), some.end());
          begin = end + 1;
        }
        if (found.empty() && !optional)
          throw std::runtime_error(fmt::format(
              "{}:1: no definition of {} in the tree {} ({}): the kernel model needs it ({})",
              (tree / sel.path).string(), entry, tree.string(), out.version.text(), sel.why));
        chosen.insert(found.begin(), found.end());
      }
    }
    // Source order, so later definitions see earlier macros as they do in
    // the kernel.
    for (const auto& c : file.chunks) {
      if (!chosen.count(&c)) continue;
      std::string body = c.text;
      for (std::size_t i = 0; i < patches.size(); ++i) {
        const auto& p = patches[i];
        if (p.file != sel.path || p.chunk != c.name) continue;
        auto patched = replace_tokens(body, p.from, p.to);
        if (!patched) continue;
        body = *patched;
        patch_used[i] = true;
      }
      if (c.kind == ChunkKind::function && is_wrapped(c.name))
        body = body.substr(0, c.name_offset) + kernel_name(c.name) +
               body.substr(c.name_offset + c.name.size());
      if (c.kind == ChunkKind::type && c.name.rfind("struct ", 0) == 0) struct_tags.insert(c.name);
      out.names.push_back(fmt::format("{}: {}", sel.path, c.name));
      auto& list = c.kind == ChunkKind::function   ? functions
                   : c.kind == ChunkKind::variable ? objects
                                                   : types;
      list.push_back(Selected{c, sel.path, body});
    }
  }
  for (std::size_t i = 0; i < patches.size(); ++i)
    if (!patch_used[i])
      throw std::runtime_error(fmt::format(
          "{}: the patch text \"{}\" is not in {} of the tree {} ({})", patches[i].file,
          patches[i].from, patches[i].chunk, tree.string(), out.version.text()));

  const std::string banner = fmt::format(
      "/* Generated by memcg-verify's kernel extractor from the tree {} ({}): do not edit, never "
      "commit. */\n",
      tree.string(), out.version.text());

  out.tree_h = banner;
  out.tree_h += fmt::format("#define MVK_TREE_VERSION \"{}\"\n", out.version.text());
  out.tree_h += fmt::format("#define MVK_TREE_PROFILE \"{}\"\n", out.version.profile_name());
  out.tree_h += fmt::format("#define MVK_TREE_VERSION_CODE {}\n", out.version.code());
  out.tree_h += fmt::format("#define MVK_TREE_PATH \"{}\"\n", tree.string());

  out.types_h = banner;
  for (const auto& tag : struct_tags) out.types_h += fmt::format("{};\n", tag);
  for (const auto& s : types) out.types_h += guarded(s.chunk, with_line(s.chunk, s.path, s.text));

  out.objects_h = banner;
  for (const auto& s : objects) out.objects_h += guarded(s.chunk, with_line(s.chunk, s.path, s.text));

  out.protos_h = banner;
  for (const auto& s : functions) {
    const auto& c = s.chunk;
    std::string decl = fmt::format("{} {}({});", c.head, c.name, c.params);
    if (is_wrapped(c.name)) decl += fmt::format("\n{} {}({});", c.head, kernel_name(c.name), c.params);
    out.protos_h += guarded(c, decl + "\n");
  }

  out.code_c = banner;
  for (const auto& s : functions) {
    out.code_c += guarded(s.chunk, with_line(s.chunk, s.path, s.text));
    if (is_wrapped(s.chunk.name))
      out.code_c += guarded(s.chunk, "#line 1 \"<mvk wrapper>\"\n" + wrapper_of(s.chunk));
  }
  return out;
}

void write_extracted(const Extracted& extracted, const fs::path& dir) {
  fs::create_directories(dir);
  const std::pair<const char*, const std::string*> files[] = {
      {"kernel_tree.h", &extracted.tree_h},
      {"kernel_types.h", &extracted.types_h},
      {"kernel_objects.h", &extracted.objects_h},
      {"kernel_protos.h", &extracted.protos_h},
      {"kernel_code.c", &extracted.code_c},
  };
  for (const auto& [name, text] : files) {
    const auto path = dir / name;
    if (fs::is_regular_file(path) && read_file(path) == *text) continue;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << *text;
    if (!out.flush()) throw std::runtime_error(fmt::format("{}: cannot write", path.string()));
  }
}

std::string digest_of(const Extracted& extracted) {
  // FNV-1a over the four texts: a cache key, not a security property.
  std::uint64_t h = 1469598103934665603ull;
  for (const auto* text : {&extracted.tree_h, &extracted.types_h, &extracted.objects_h,
                           &extracted.protos_h, &extracted.code_c})
    for (unsigned char c : *text) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

}  // namespace mv::kernel::extract
