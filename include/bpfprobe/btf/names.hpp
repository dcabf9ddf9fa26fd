// Which BTF names may reach output. A name becomes part of a C macro, a JSON key or a text line, so
// it must be a C identifier: a crafted BTF could otherwise inject lines ("\n#error") into --macros
// or bytes that are not UTF-8 into --json.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bpfprobe::btf {

// The kernel's own bound for BTF names (KSYM_NAME_LEN since 6.1).
inline constexpr std::size_t max_name_len = 512;

// [A-Za-z_][A-Za-z0-9_]*, at most max_name_len characters.
inline bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > max_name_len) return false;
  auto alpha = [](unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(static_cast<unsigned char>(s[0]))) return false;
  for (unsigned char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

// Names of INT and FLOAT types are C type words: "long unsigned int", "__int128 unsigned".
inline bool is_type_words(std::string_view s) {
  if (s.empty() || s.size() > max_name_len) return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t space = s.find(' ', start);
    if (!is_identifier(s.substr(start, space == std::string_view::npos ? std::string_view::npos : space - start)))
      return false;
    if (space == std::string_view::npos) return true;
    start = space + 1;
  }
}

// Printable ASCII as it is; everything else (newlines, quotes, backslashes, bytes >= 0x80) as a C
// escape, so a hostile name prints as one harmless line. Long input is cut at `limit` characters.
inline std::string escape(std::string_view s, std::size_t limit = 80) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == limit) {
      out += "...(" + std::to_string(s.size()) + " bytes)";
      break;
    }
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\'': out += "\\'"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        }
    }
  }
  return out;
}

}  // namespace bpfprobe::btf
