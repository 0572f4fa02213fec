// qkern — SPDX-License-Identifier: Apache-2.0
//
// io/json.hpp: a small strict JSON (RFC 8259) parser for the safetensors header, with no dependency.
// Strict: one value and only whitespace around it; no comments, trailing commas, NaN/Infinity,
// leading zeros, unescaped control characters or invalid UTF-8; \u escapes (surrogate pairs
// included) decoded to UTF-8; duplicate object keys rejected; nesting limited to 64 levels. Numbers
// keep their text; integers that fit are available as uint64. Errors are JsonError with the byte
// offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/core/error.hpp"

namespace qkern {
namespace io {

// Outside the ABI namespace (core/abi.hpp), like every qkern exception type.
class JsonError : public std::runtime_error {
 public:
  QKERN_ALWAYS_INLINE JsonError(const std::string& what, std::size_t offset)
      : std::runtime_error(what + " at byte " + std::to_string(offset)), offset_(offset) {}
  QKERN_ALWAYS_INLINE JsonError(const JsonError&) = default;
  QKERN_ALWAYS_INLINE std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

inline namespace QKERN_ABI_NS {

struct JsonMember;

struct JsonValue {
  enum class Type { null, boolean, number, string, array, object };
  Type type = Type::null;
  bool boolean = false;
  std::string text;  ///< string value (UTF-8), or the number's text
  std::vector<JsonValue> array;
  std::vector<JsonMember> object;  ///< in document order, keys unique

  bool is_object() const { return type == Type::object; }
  bool is_array() const { return type == Type::array; }
  bool is_string() const { return type == Type::string; }
  bool is_number() const { return type == Type::number; }
  /// The number as a uint64 when it is a non-negative integer literal (no fraction or exponent)
  /// that fits; false otherwise.
  bool as_uint64(std::uint64_t& out) const {
    if (type != Type::number || text.empty() || text[0] == '-') return false;
    std::uint64_t v = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return false;
      const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
    out = v;
    return true;
  }
  /// The member named key, or nullptr.
  inline const JsonValue* find(const std::string& key) const;
};

/// One member of a JSON object: its key and value (first / second, as the std::pair it replaces:
/// clang's C++20 mode cannot instantiate std::pair<std::string, JsonValue> inside JsonValue).
struct JsonMember {
  std::string first;
  JsonValue second;
  JsonMember() = default;
  JsonMember(std::string key, JsonValue value) : first(std::move(key)), second(std::move(value)) {}
};

inline const JsonValue* JsonValue::find(const std::string& key) const {
  for (const auto& kv : object)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

namespace detail {

class JsonParser {
 public:
  JsonParser(const char* p, std::size_t n) : begin_(p), p_(p), end_(p + n) {}

  JsonValue parse_document() {
    skip_ws();
    JsonValue v = value(0);
    skip_ws();
    if (p_ != end_) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    ::qkern::detail::raise(JsonError(what, static_cast<std::size_t>(p_ - begin_)));
  }
  bool at_end() const { return p_ == end_; }
  char peek() const {
    if (p_ == end_) fail("unexpected end of JSON");
    return *p_;
  }
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  void literal(const char* word) {
    for (const char* w = word; *w; ++w) {
      if (p_ == end_ || *p_ != *w) fail(std::string("invalid literal (expected '") + word + "')");
      ++p_;
    }
  }

  JsonValue value(int depth) {
    if (depth > 64) fail("JSON nested too deeply");
    JsonValue v;
    const char c = peek();
    if (c == '{') {
      v.type = JsonValue::Type::object;
      ++p_;
      skip_ws();
      if (peek() == '}') {
        ++p_;
        return v;
      }
      for (;;) {
        skip_ws();
        if (peek() != '"') fail("expected a string key");
        std::string key = string();
        for (const auto& kv : v.object)
          if (kv.first == key) fail("duplicate key \"" + key + "\"");
        skip_ws();
        if (peek() != ':') fail("expected ':'");
        ++p_;
        skip_ws();
        JsonValue member = value(depth + 1);
        v.object.emplace_back(std::move(key), std::move(member));
        skip_ws();
        if (peek() == ',') {
          ++p_;
          continue;
        }
        if (peek() == '}') {
          ++p_;
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.type = JsonValue::Type::array;
      ++p_;
      skip_ws();
      if (peek() == ']') {
        ++p_;
        return v;
      }
      for (;;) {
        skip_ws();
        v.array.push_back(value(depth + 1));
        skip_ws();
        if (peek() == ',') {
          ++p_;
          continue;
        }
        if (peek() == ']') {
          ++p_;
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.type = JsonValue::Type::string;
      v.text = string();
      return v;
    }
    if (c == 't') {
      literal("true");
      v.type = JsonValue::Type::boolean;
      v.boolean = true;
      return v;
    }
    if (c == 'f') {
      literal("false");
      v.type = JsonValue::Type::boolean;
      return v;
    }
    if (c == 'n') {
      literal("null");
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.type = JsonValue::Type::number;
      v.text = number();
      return v;
    }
    fail("unexpected character in JSON");
  }

  std::string number() {
    const char* s = p_;
    if (*p_ == '-') ++p_;
    if (at_end()) fail("truncated number");
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (!at_end() && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      fail("invalid number");
    }
    if (!at_end() && *p_ == '.') {
      ++p_;
      if (at_end() || *p_ < '0' || *p_ > '9') fail("invalid number fraction");
      while (!at_end() && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (!at_end() && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (!at_end() && (*p_ == '+' || *p_ == '-')) ++p_;
      if (at_end() || *p_ < '0' || *p_ > '9') fail("invalid number exponent");
      while (!at_end() && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ - s > 64) fail("number too long");
    return std::string(s, p_);
  }

  unsigned hex4() {
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      ++p_;
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<unsigned>(c - 'A' + 10);
      else
        fail("invalid \\u escape");
    }
    return v;
  }

  static void append_utf8(std::string& s, unsigned cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xc0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xe0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      s += static_cast<char>(0xf0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  // One UTF-8 sequence starting at p_ (first byte >= 0x80), validated (no overlongs, surrogates or
  // code points above U+10FFFF) and appended.
  void utf8_sequence(std::string& s) {
    const unsigned char b0 = static_cast<unsigned char>(*p_);
    int len;
    unsigned cp, min;
    if (b0 >= 0xc2 && b0 <= 0xdf)
      len = 2, cp = b0 & 0x1f, min = 0x80;
    else if (b0 >= 0xe0 && b0 <= 0xef)
      len = 3, cp = b0 & 0x0f, min = 0x800;
    else if (b0 >= 0xf0 && b0 <= 0xf4)
      len = 4, cp = b0 & 0x07, min = 0x10000;
    else
      fail("invalid UTF-8");
    if (end_ - p_ < len) fail("truncated UTF-8");
    for (int i = 1; i < len; ++i) {
      const unsigned char b = static_cast<unsigned char>(p_[i]);
      if ((b & 0xc0) != 0x80) fail("invalid UTF-8");
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) fail("invalid UTF-8");
    s.append(p_, static_cast<std::size_t>(len));
    p_ += len;
  }

  std::string string() {
    ++p_;  // opening quote
    std::string s;
    for (;;) {
      const char c = peek();
      if (c == '"') {
        ++p_;
        return s;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a JSON string");
      if (static_cast<unsigned char>(c) >= 0x80) {
        utf8_sequence(s);
        continue;
      }
      ++p_;
      if (c != '\\') {
        s += c;
        continue;
      }
      const char e = peek();
      ++p_;
      switch (e) {
        case '"':
          s += '"';
          break;
        case '\\':
          s += '\\';
          break;
        case '/':
          s += '/';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 't':
          s += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xdc00 && cp <= 0xdfff) fail("unpaired low surrogate");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') fail("unpaired high surrogate");
            p_ += 2;
            const unsigned lo = hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail("invalid low surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          append_utf8(s, cp);
          break;
        }
        default:
          fail("invalid escape in a JSON string");
      }
    }
  }

  const char* begin_;
  const char* p_;
  const char* end_;
};

}  // namespace detail

/// Parses a complete JSON document; throws JsonError.
inline JsonValue parse_json(const char* data, std::size_t size) {
  return detail::JsonParser(data, size).parse_document();
}

/// JSON string literal (quotes included) of UTF-8 text s.
inline std::string json_quote(const std::string& s) {
  std::string out = "\"";
  static const char hex[] = "0123456789abcdef";
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"')
      out += "\\\"";
    else if (c == '\\')
      out += "\\\\";
    else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace QKERN_ABI_NS
}  // namespace io
}  // namespace qkern
