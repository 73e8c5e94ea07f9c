#include "kernel/extract/c_source.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

namespace mv::kernel::extract {

namespace {

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

struct Token {
  std::string text;
  std::size_t begin = 0;  // offsets in the source
  std::size_t end = 0;
  std::size_t line = 0;
};

// Tokenizes C text: identifiers and numbers as one token, string and char
// literals as one token, every other non-space character alone. Comments are
// skipped. Preprocessor lines are handed to `on_directive` (when given) and
// not tokenized; without it they are tokenized like the rest.
class Lexer {
 public:
  explicit Lexer(std::string_view text, std::string_view path = "<text>")
      : text_(text), path_(path) {}

  // Next token; false at the end. `directive` receives a preprocessor line
  // (continuations joined, comments kept) when one starts a line.
  bool next(Token& out, std::string* directive = nullptr, std::size_t* directive_line = nullptr,
            std::size_t* directive_begin = nullptr, std::size_t* directive_end = nullptr) {
    for (;;) {
      skip_space_and_comments();
      if (pos_ >= text_.size()) return false;
      if (text_[pos_] == '#' && at_line_start() && directive) {
        *directive_line = line_;
        *directive_begin = pos_;
        *directive = read_directive();
        *directive_end = pos_;
        return true;  // out untouched; the caller checks *directive
      }
      break;
    }
    out.begin = pos_;
    out.line = line_;
    char c = text_[pos_];
    if (ident_start(c) || std::isdigit(static_cast<unsigned char>(c))) {
      while (pos_ < text_.size() && (ident_char(text_[pos_]) || text_[pos_] == '.')) {
        // A '.' only continues a number (1.5), never an identifier.
        if (text_[pos_] == '.' && !std::isdigit(static_cast<unsigned char>(text_[out.begin]))) break;
        ++pos_;
      }
    } else if (c == '"' || c == '\'') {
      read_literal(c);
    } else if (c == '.' && text_.substr(pos_, 3) == "...") {
      pos_ += 3;
    } else {
      ++pos_;
    }
    out.end = pos_;
    out.text = std::string(text_.substr(out.begin, out.end - out.begin));
    return true;
  }

  std::size_t line() const { return line_; }

 private:
  bool at_line_start() const {
    for (std::size_t i = pos_; i > 0; --i) {
      char c = text_[i - 1];
      if (c == '\n') return true;
      if (c != ' ' && c != '\t') return false;
    }
    return true;
  }

  void advance(std::size_t n) {
    for (std::size_t i = 0; i < n && pos_ < text_.size(); ++i, ++pos_)
      if (text_[pos_] == '\n') ++line_;
  }

  void skip_space_and_comments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
        advance(2);
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        advance(1);
      } else if (text_.substr(pos_, 2) == "/*") {
        auto close = text_.find("*/", pos_ + 2);
        if (close == std::string_view::npos)
          throw std::runtime_error(fmt::format("{}:{}: unterminated comment", path_, line_));
        advance(close + 2 - pos_);
      } else if (text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') advance(1);
      } else {
        return;
      }
    }
  }

  void read_literal(char quote) {
    std::size_t start_line = line_;
    advance(1);
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') advance(1);
      if (text_[pos_] == '\n' && quote == '\'')
        throw std::runtime_error(fmt::format("{}:{}: unterminated character literal", path_, start_line));
      advance(1);
    }
    if (pos_ >= text_.size())
      throw std::runtime_error(fmt::format("{}:{}: unterminated literal", path_, start_line));
    advance(1);
  }

  // From '#' to the end of the line, following backslash continuations and
  // block comments that run past the line end.
  std::string read_directive() {
    std::size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\n') break;
      if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
        advance(2);
        continue;
      }
      if (text_.substr(pos_, 2) == "/*") {
        auto close = text_.find("*/", pos_ + 2);
        if (close == std::string_view::npos)
          throw std::runtime_error(fmt::format("{}:{}: unterminated comment", path_, line_));
        advance(close + 2 - pos_);
        continue;
      }
      if (text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') advance(1);
        break;
      }
      advance(1);
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string_view text_;
  std::string_view path_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

std::string strip_comments(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i, 2) == "/*") {
      auto close = text.find("*/", i + 2);
      i = close == std::string_view::npos ? text.size() : close + 2;
      out += ' ';
    } else if (text.substr(i, 2) == "//") {
      break;
    } else if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += ' ';
      i += 2;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool is_keyword(std::string_view w) {
  static const char* const kw[] = {"static", "inline", "extern", "const", "volatile", "unsigned",
                                   "signed", "struct", "union", "enum", "int", "long", "short",
                                   "char", "void", "bool", "typedef", "register", "restrict"};
  return std::any_of(std::begin(kw), std::end(kw), [&](const char* k) { return w == k; });
}

// Object-like attributes (`__read_mostly`, `__ro_after_init`, `__rcu`): never
// a variable's name.
bool is_attribute_like(std::string_view w) { return w.size() >= 2 && w.substr(0, 2) == "__"; }

// Function-like attributes that may stand before a function's name.
bool is_function_attribute(std::string_view w) {
  static const char* const attrs[] = {"__attribute__", "__printf",   "__scanf",      "__aligned",
                                      "__section",     "__alias",    "__acquires",   "__releases",
                                      "__must_hold",   "__alloc_size", "__cond_acquires",
                                      "__assume_aligned"};
  return std::any_of(std::begin(attrs), std::end(attrs), [&](const char* a) { return w == a; });
}

bool is_all_caps(std::string_view w) {
  bool letter = false;
  for (char c : w) {
    if (std::islower(static_cast<unsigned char>(c))) return false;
    if (std::isupper(static_cast<unsigned char>(c))) letter = true;
  }
  return letter;
}

// One #if/#ifdef frame: the conditions of the branches already passed and
// the current branch's own.
struct CondFrame {
  std::vector<std::string> previous;
  std::string current;  // empty for #else
  std::size_t line = 0;
  std::string effective() const {
    std::string out;
    for (const auto& p : previous) out += fmt::format("{}!({})", out.empty() ? "" : " && ", p);
    if (!current.empty()) out += fmt::format("{}({})", out.empty() ? "" : " && ", current);
    return out;
  }
};

class Splitter {
 public:
  Splitter(std::string path, std::string_view text) : text_(text), lexer_(text, path) {
    file_.path = std::move(path);
  }

  SourceFile run() {
    Token tok;
    std::string directive;
    std::size_t dline = 0, dbegin = 0, dend = 0;
    for (;;) {
      directive.clear();
      if (!lexer_.next(tok, &directive, &dline, &dbegin, &dend)) break;
      if (!directive.empty()) {
        // Inside braces a directive is only part of the chunk's text. Between
        // the tokens of a pending declaration it is part of its text too, but
        // conditionals still count (SYSCALL_DEFINE heads under #ifdef).
        if (depth_ == 0) on_directive(directive, dline, dbegin, dend, /*pending=*/!pending_.empty());
        continue;
      }
      on_token(tok);
    }
    if (!pending_.empty() || depth_ != 0)
      throw std::runtime_error(fmt::format("{}:{}: definition never ends (unbalanced braces?)",
                                           file_.path, pending_.empty() ? lexer_.line() : pending_.front().line));
    if (!conds_.empty())
      throw std::runtime_error(fmt::format("{}:{}: #if without #endif", file_.path, conds_.back().line));
    return std::move(file_);
  }

 private:
  std::vector<std::string> conditions() const {
    std::vector<std::string> out;
    for (const auto& f : conds_) {
      auto e = f.effective();
      if (!e.empty()) out.push_back(e);
    }
    return out;
  }

  void on_directive(const std::string& raw, std::size_t line, std::size_t begin, std::size_t end,
                    bool pending) {
    std::string d = trim(strip_comments(raw));
    d = trim(std::string_view(d).substr(1));  // drop '#'
    auto word_end = std::find_if(d.begin(), d.end(), [](char c) { return !ident_char(c); });
    std::string word(d.begin(), word_end);
    std::string rest = trim(std::string_view(d).substr(word.size()));
    if (word == "ifdef" || word == "ifndef") {
      std::string name = rest.substr(0, rest.find_first_of(" \t"));
      conds_.push_back(CondFrame{{}, fmt::format("{}defined({})", word == "ifndef" ? "!" : "", name), line});
    } else if (word == "if") {
      conds_.push_back(CondFrame{{}, rest, line});
    } else if (word == "elif" || word == "else") {
      if (conds_.empty())
        throw std::runtime_error(fmt::format("{}:{}: #{} without #if", file_.path, line, word));
      auto& f = conds_.back();
      if (f.current.empty())
        throw std::runtime_error(fmt::format("{}:{}: #{} after #else", file_.path, line, word));
      f.previous.push_back(f.current);
      f.current = word == "elif" ? rest : std::string();
    } else if (word == "endif") {
      if (conds_.empty()) throw std::runtime_error(fmt::format("{}:{}: #endif without #if", file_.path, line));
      conds_.pop_back();
    } else if (word == "define" && !pending) {
      auto name_end = std::find_if(rest.begin(), rest.end(), [](char c) { return !ident_char(c); });
      Chunk c;
      c.kind = ChunkKind::macro;
      c.name = std::string(rest.begin(), name_end);
      c.text = std::string(text_.substr(begin, end - begin));
      c.line = line;
      c.conditions = conditions();
      file_.chunks.push_back(std::move(c));
    }
    // #include, #undef, #pragma, #error, #warning: nothing to cut out.
  }

  void on_token(const Token& tok) {
    if (pending_.empty() && depth_ == 0) {
      chunk_begin_ = tok.begin;
      chunk_conditions_ = conditions();
      opener_prev_.clear();
    }
    const std::string& t = tok.text;
    if (t == "{") {
      if (depth_ == 0) opener_prev_ = pending_top_.empty() ? "" : pending_top_.back().text;
      if (depth_ == 0) pending_top_.push_back(tok);
      ++depth_;
      pending_.push_back(tok);
      return;
    }
    if (t == "}") {
      if (depth_ == 0)
        throw std::runtime_error(fmt::format("{}:{}: unbalanced '}}'", file_.path, tok.line));
      --depth_;
      pending_.push_back(tok);
      if (depth_ == 0) {
        pending_top_.push_back(tok);
        if (opener_prev_ == ")") finish(tok.end, /*has_body=*/true);
      }
      return;
    }
    pending_.push_back(tok);
    if (depth_ == 0) {
      pending_top_.push_back(tok);
      if (t == ";" ) finish(tok.end, false);
    }
  }

  void finish(std::size_t end, bool has_body) {
    Chunk c;
    c.text = std::string(text_.substr(chunk_begin_, end - chunk_begin_));
    c.line = pending_.front().line;
    c.conditions = chunk_conditions_;
    name_chunk(c, has_body);
    file_.chunks.push_back(std::move(c));
    pending_.clear();
    pending_top_.clear();
  }

  // Names the chunk from its top-level tokens (those outside braces).
  void name_chunk(Chunk& c, bool has_body) {
    const auto& top = pending_top_;
    auto rel = [&](const Token& t) { return t.begin - chunk_begin_; };
    if (top.empty()) return;
    std::size_t i = 0;
    while (i < top.size() && (top[i].text == "static" || top[i].text == "typedef")) ++i;
    if (i + 2 < top.size() && (top[i].text == "struct" || top[i].text == "union" || top[i].text == "enum") &&
        ident_start(top[i + 1].text[0]) && top[i + 2].text == "{" && top.front().text != "typedef") {
      c.kind = ChunkKind::type;
      c.name = top[i].text + " " + top[i + 1].text;
      return;
    }
    if (top.front().text == "typedef") {
      c.kind = ChunkKind::type;
      for (auto it = top.rbegin(); it != top.rend(); ++it)
        if (ident_start(it->text[0]) && !is_keyword(it->text)) {
          c.name = it->text;
          break;
        }
      return;
    }
    // The first top-level '(' after an identifier that is not an attribute.
    int paren = 0;
    for (std::size_t k = 0; k < top.size(); ++k) {
      const auto& t = top[k].text;
      if (t == "(") {
        if (paren == 0 && k > 0 && ident_start(top[k - 1].text[0]) && !is_function_attribute(top[k - 1].text) &&
            !is_keyword(top[k - 1].text)) {
          const auto& callee = top[k - 1].text;
          if (is_all_caps(callee)) {
            // DEFINE_PER_CPU(type, name), DEFINE_MUTEX(name), DECLARE_...:
            // the object's name is the last identifier in the parentheses.
            if (callee.rfind("DEFINE_", 0) == 0 || callee.rfind("DECLARE_", 0) == 0) {
              int depth = 0;
              for (std::size_t m = k; m < top.size(); ++m) {
                if (top[m].text == "(") ++depth;
                if (top[m].text == ")" && --depth == 0) break;
                if (ident_start(top[m].text[0])) c.name = top[m].text;
              }
              c.kind = ChunkKind::variable;
            }
            return;  // EXPORT_SYMBOL(...) and the like: other
          }
          c.name = callee;
          c.name_offset = rel(top[k - 1]);
          c.head = trim(std::string_view(c.text).substr(0, c.name_offset));
          int depth = 0;
          std::size_t open = 0;
          for (std::size_t m = k; m < top.size(); ++m) {
            if (top[m].text == "(" && depth++ == 0) open = rel(top[m]) + 1;
            if (top[m].text == ")" && --depth == 0) {
              c.params = trim(std::string_view(c.text).substr(open, rel(top[m]) - open));
              break;
            }
          }
          c.kind = has_body ? ChunkKind::function : ChunkKind::prototype;
          return;
        }
        ++paren;
      } else if (t == ")") {
        --paren;
      }
    }
    // A variable: the last identifier before '=' or ';' that is not an
    // attribute (`__read_mostly`) or a keyword.
    for (const auto& t : top) {
      if (t.text == "=" || t.text == ";") break;
      if (ident_start(t.text[0]) && !is_keyword(t.text) && !is_attribute_like(t.text)) c.name = t.text;
    }
    if (!c.name.empty()) c.kind = ChunkKind::variable;
  }

  std::string_view text_;
  Lexer lexer_;
  SourceFile file_;
  std::vector<CondFrame> conds_;
  std::vector<Token> pending_;      // every token of the current chunk
  std::vector<Token> pending_top_;  // its tokens outside braces (plus the braces)
  std::size_t chunk_begin_ = 0;
  std::string opener_prev_;  // the token before the chunk's first top-level '{'
  std::vector<std::string> chunk_conditions_;  // in force at the chunk's first token
  int depth_ = 0;
};

std::vector<Token> tokens_of(std::string_view text) {
  Lexer lexer(text);
  std::vector<Token> out;
  Token t;
  while (lexer.next(t)) out.push_back(t);
  return out;
}

}  // namespace

SourceFile split_source(std::string path, std::string_view text) {
  return Splitter(std::move(path), text).run();
}

std::vector<const Chunk*> find_chunks(const SourceFile& file, std::string_view name,
                                      bool definitions_only) {
  std::vector<const Chunk*> out;
  for (const auto& c : file.chunks) {
    if (c.name != name) continue;
    if (definitions_only && (c.kind == ChunkKind::prototype || c.kind == ChunkKind::other)) continue;
    out.push_back(&c);
  }
  return out;
}

std::vector<std::string> c_tokens(std::string_view text) {
  std::vector<std::string> out;
  for (auto& t : tokens_of(text)) out.push_back(std::move(t.text));
  return out;
}

std::optional<std::string> replace_tokens(std::string_view text, std::string_view from,
                                          std::string_view to) {
  auto hay = tokens_of(text);
  auto needle = c_tokens(from);
  if (needle.empty() || needle.size() > hay.size()) return std::nullopt;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    bool match = true;
    for (std::size_t k = 0; k < needle.size() && match; ++k) match = hay[i + k].text == needle[k];
    if (!match) continue;
    std::string out(text.substr(0, hay[i].begin));
    out += to;
    out += text.substr(hay[i + needle.size() - 1].end);
    return out;
  }
  return std::nullopt;
}

std::vector<std::string> parameter_names(std::string_view params) {
  std::vector<std::string> names;
  auto toks = c_tokens(params);
  if (toks.size() == 1 && toks[0] == "void") return names;
  std::vector<std::vector<std::string>> groups(1);
  int depth = 0;
  for (auto& t : toks) {
    if (t == "(" || t == "[") ++depth;
    if (t == ")" || t == "]") --depth;
    if (t == "," && depth == 0) {
      groups.emplace_back();
      continue;
    }
    groups.back().push_back(t);
  }
  for (const auto& g : groups) {
    std::string name;
    // A function pointer: `ret (*name)(args)`.
    for (std::size_t i = 0; i + 2 < g.size(); ++i)
      if (g[i] == "(" && g[i + 1] == "*" && ident_start(g[i + 2][0])) name = g[i + 2];
    if (name.empty()) {
      int d = 0;
      for (const auto& t : g) {
        if (t == "(" || t == "[") ++d;
        if (t == ")" || t == "]") --d;
        if (d == 0 && ident_start(t[0]) && !is_keyword(t)) name = t;
      }
    }
    if (!name.empty() && name != "...") names.push_back(name);
  }
  return names;
}

}  // namespace mv::kernel::extract
