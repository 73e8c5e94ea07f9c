// trace/text.h: what a message may show of the input's bytes.
#include <gtest/gtest.h>

#include <string>

#include "trace/text.h"

namespace mv::trace {
namespace {

TEST(TraceText, ValidUtf8FollowsRfc3629) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain /a/b"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("\xc3"));              // cut
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\x80"));              // a lone continuation byte
}

TEST(TraceText, PrintableEscapesControlsAndBadBytesAndCutsAtACharacter) {
  EXPECT_EQ(printable("/a/b"), "/a/b");
  EXPECT_EQ(printable(std::string("a\nb\0c", 5), 10), "a\\x0Ab\\x00c");
  EXPECT_EQ(printable("\x7f\xc2\x9b"), "\\x7F\\xC2\\x9B");
  EXPECT_EQ(printable("x\xff"), "x\\xFF");
  EXPECT_EQ(printable("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9...");  // not half of the second é
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  EXPECT_EQ(printable("abc", 3), "abc");
  const std::string cut = printable(std::string(100, '\xff'), 10);
  EXPECT_TRUE(valid_utf8(cut));
  EXPECT_EQ(cut, std::string("\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF\\xFF..."));
}

TEST(TraceText, CharacterProblemNamesTheFirstBadCharacter) {
  EXPECT_EQ(character_problem("task-1 é"), "");
  EXPECT_EQ(character_problem("t\n"), "control character \\x0A at byte 1");
  EXPECT_EQ(character_problem(std::string("a\0b", 3)), "control character \\x00 at byte 1");
  EXPECT_EQ(character_problem("\xc2\x85"), "control character \\xC2\\x85 at byte 0");
  EXPECT_EQ(character_problem("ok\xff"), "byte \\xFF at byte 2 is not UTF-8");
}

}  // namespace
}  // namespace mv::trace
