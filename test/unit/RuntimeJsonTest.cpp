// The strict JSON parser behind safetensors headers: accepted forms, exact error messages.
#include "runtime/Json.h"

#include <gtest/gtest.h>

namespace rnnc {
namespace {

std::string parseError(std::string_view text) {
  Expected<JsonValue> value = parseJson(text);
  EXPECT_FALSE(value) << "parsed: " << text;
  if (value)
    return "";
  EXPECT_EQ(value.error().kind, ErrorKind::User);
  return value.error().message;
}

TEST(RuntimeJsonTest, ParsesNestedValuesInOrder) {
  Expected<JsonValue> value =
      parseJson(R"( {"b": [1, -2.5e3, true, null], "a": {"s": "x"}, "b": false} )");
  ASSERT_TRUE(value) << value.error().message;
  ASSERT_EQ(value->kind, JsonValue::Kind::Object);
  ASSERT_EQ(value->members.size(), 3u); // duplicates are kept for the caller to judge
  EXPECT_EQ(value->members[0].key, "b");
  const JsonValue &array = value->members[0].value;
  ASSERT_EQ(array.elements.size(), 4u);
  EXPECT_EQ(array.elements[0].asInt64(), 1);
  EXPECT_EQ(array.elements[1].text, "-2.5e3");
  EXPECT_EQ(array.elements[1].asInt64(), std::nullopt);
  EXPECT_TRUE(array.elements[2].boolean);
  EXPECT_EQ(array.elements[3].kind, JsonValue::Kind::Null);
  EXPECT_EQ(value->members[1].value.members[0].value.text, "x");
}

TEST(RuntimeJsonTest, DecodesEscapes) {
  Expected<JsonValue> value = parseJson(R"("a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00")");
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(value->text, "a\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80");
}

TEST(RuntimeJsonTest, QuoteRoundTrips) {
  std::string text = "tab\there \"q\" back\\slash \x01 caf\xC3\xA9";
  Expected<JsonValue> value = parseJson(quoteJson(text));
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(value->text, text);
  EXPECT_EQ(quoteJson("a\"b\n"), R"("a\"b\n")");
}

TEST(RuntimeJsonTest, IntegersThatDoNotFit) {
  Expected<JsonValue> value = parseJson("[9223372036854775807, 9223372036854775808, 3.0]");
  ASSERT_TRUE(value);
  EXPECT_EQ(value->elements[0].asInt64(), INT64_MAX);
  EXPECT_EQ(value->elements[1].asInt64(), std::nullopt);
  EXPECT_EQ(value->elements[2].asInt64(), std::nullopt);
}

TEST(RuntimeJsonTest, ErrorMessages) {
  EXPECT_EQ(parseError(""), "expected a JSON value, found the end of the text at byte 0");
  EXPECT_EQ(parseError(R"({"a" 1})"), "expected ':' after an object key at byte 5");
  EXPECT_EQ(parseError(R"({"a": 1,})"), "expected a string key in an object at byte 8");
  EXPECT_EQ(parseError("[1, 2"), "expected ',' or ']' in an array at byte 5");
  EXPECT_EQ(parseError("[1 2]"), "expected ',' or ']' in an array at byte 3");
  EXPECT_EQ(parseError(R"({"a": 1 "b": 2})"), "expected ',' or '}' in an object at byte 8");
  EXPECT_EQ(parseError("{} x"), "unexpected text after the JSON value at byte 3");
  EXPECT_EQ(parseError("012"), "numbers must not have leading zeros at byte 1");
  EXPECT_EQ(parseError("1."), "expected digits after the decimal point at byte 2");
  EXPECT_EQ(parseError("1e"), "expected digits in the exponent at byte 2");
  EXPECT_EQ(parseError("-"), "expected digits in a number at byte 1");
  EXPECT_EQ(parseError("NaN"), "expected a JSON value at byte 0");
  EXPECT_EQ(parseError("tru"), "expected a JSON value at byte 0");
  EXPECT_EQ(parseError(R"("abc)"), "unterminated string at byte 4");
  EXPECT_EQ(parseError("\"a\nb\""), "control character in a string at byte 2");
  EXPECT_EQ(parseError(R"("\x")"), "invalid escape sequence in a string at byte 2");
  EXPECT_EQ(parseError(R"("\u12")"), "expected four hex digits after \\u at byte 3");
  EXPECT_EQ(parseError(R"("\ude00")"), "unpaired UTF-16 surrogate in a \\u escape at byte 7");
  EXPECT_EQ(parseError("\"\xC3\""), "invalid UTF-8 in a string at byte 1");
  EXPECT_EQ(parseError("\"\xC0\xAF\""), "invalid UTF-8 in a string at byte 1"); // overlong
  EXPECT_EQ(parseError(std::string(65, '[') + std::string(65, ']')),
            "JSON nested deeper than 64 levels at byte 64");
}

TEST(RuntimeJsonTest, DeepNestingWithinTheLimitIsAccepted) {
  EXPECT_TRUE(parseJson(std::string(64, '[') + std::string(64, ']')));
}

TEST(RuntimeJsonTest, Utf8Validation) {
  EXPECT_TRUE(isValidUtf8("plain caf\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));     // encoded surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80")); // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xE2\x82"));         // truncated
}

} // namespace
} // namespace rnnc
