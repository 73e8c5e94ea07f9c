// A light reader of kernel C files: it splits a file into its top-level
// definitions ("chunks": a function, a struct, a macro, a variable), each with
// its name, its source text, the line it starts on and the preprocessor
// conditions it sits under. It is not a C parser: it knows comments, strings,
// braces, parentheses and preprocessor lines, which is all the extractor
// (kernel/extract/extract.h) needs to cut definitions out by name. Nothing of
// a kernel tree is stored by this code; trees are read at build time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mv::kernel::extract {

enum class ChunkKind {
  function,    // a definition with a body: `... name(params) { ... }`
  prototype,   // `... name(params);`
  type,        // `struct tag {...};`, `union tag {...};`, `enum tag {...};`
  variable,    // a file-scope object, DEFINE_PER_CPU / DEFINE_MUTEX style included
  macro,       // `#define NAME ...`
  other,       // EXPORT_SYMBOL(...), initcalls, anything unnamed
};

struct Chunk {
  ChunkKind kind = ChunkKind::other;
  std::string name;       // "refill_obj_stock", "struct obj_cgroup", "MEMCG_CHARGE_BATCH"
  std::string text;       // the exact source text, from its first token to its end
  std::size_t line = 0;   // 1-based line of the first token
  // The preprocessor conditions in force, outermost first, each a complete
  // `#if` expression ("defined(CONFIG_MEMCG_KMEM)", "!(defined(X)) && (Y)").
  std::vector<std::string> conditions;
  // For functions and prototypes: the text before the name (return type and
  // specifiers), the name's offset in `text`, and the parameter list text
  // (without the parentheses).
  std::string head;
  std::size_t name_offset = 0;
  std::string params;
};

struct SourceFile {
  std::string path;  // as given (relative to the tree)
  std::vector<Chunk> chunks;
};

// Splits `text`. Throws std::runtime_error("PATH:LINE: ...") on input it
// cannot follow (an unterminated comment, unbalanced braces or conditionals).
SourceFile split_source(std::string path, std::string_view text);

// The chunks named `name` (a function may have several definitions under
// different conditions: the preprocessor of the generated file picks one).
std::vector<const Chunk*> find_chunks(const SourceFile& file, std::string_view name,
                                      bool definitions_only = true);

// `text` with the first occurrence of `from` replaced by `to`, matched token
// by token (whitespace and comments between tokens do not matter); nullopt
// if `from` does not occur.
std::optional<std::string> replace_tokens(std::string_view text, std::string_view from,
                                          std::string_view to);

// Identifier and punctuation tokens of C text (comments dropped), for tests
// and for matching.
std::vector<std::string> c_tokens(std::string_view text);

// The parameter names of a parameter list ("struct obj_cgroup *objcg, gfp_t gfp"
// gives {"objcg", "gfp"}; "void" gives {}).
std::vector<std::string> parameter_names(std::string_view params);

}  // namespace mv::kernel::extract
