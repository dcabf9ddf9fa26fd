// A streaming JSON writer for the report: no document tree, one output string. Its output is the
// bytes nlohmann::json::dump(indent, ' ', false, error_handler_t::replace) gives for the same
// document (tests/unit/json_writer_test.cpp holds it to that), so the report's JSON did not change
// when the tree went. Object keys are written in the order the caller gives; sorted_object() sorts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfprobe::render {

class json_writer {
 public:
  // indent < 0: one line, no spaces.
  explicit json_writer(int indent = 2) : indent_(indent) {}

  [[nodiscard]] std::string take() && { return std::move(out_); }

  void null() { out_ += "null"; }
  void boolean(bool b) { out_ += b ? "true" : "false"; }
  template <class Int>
  void number(Int v) {
    out_ += std::to_string(v);
  }
  void string(std::string_view s) {
    out_ += '"';
    escape(s);
    out_ += '"';
  }

  // An object whose members `body` writes with member(); "{}" when it writes none.
  template <class Body>
  void object(Body&& body) {
    open('{');
    body();
    close('}');
  }
  template <class Body>
  void array(Body&& body) {
    open('[');
    body();
    close(']');
  }
  // The key of the next member of the enclosing object; the value follows.
  void key(std::string_view k) {
    element();
    string(k);
    out_ += indent_ < 0 ? ":" : ": ";
  }
  // Before each element of the enclosing array.
  void element() {
    if (counts_.back()++) out_ += ',';
    newline(counts_.size());
  }

  void strings(const std::vector<std::string>& items) {
    array([&] {
      for (const auto& i : items) element(), string(i);
    });
  }

  // Members given in any order, written sorted by key (as a std::map-backed document keeps them);
  // a key given twice keeps its last value.
  using member_list = std::vector<std::pair<std::string, std::function<void(json_writer&)>>>;
  void sorted_object(member_list members) {
    std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    object([&] {
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i + 1 < members.size() && members[i + 1].first == members[i].first) continue;
        key(members[i].first);
        members[i].second(*this);
      }
    });
  }

 private:
  void open(char c) {
    out_ += c;
    counts_.push_back(0);
  }
  void close(char c) {
    bool any = counts_.back() != 0;
    counts_.pop_back();
    if (any) newline(counts_.size());
    out_ += c;
  }
  void newline(std::size_t depth) {
    if (indent_ < 0) return;
    out_ += '\n';
    out_.append(static_cast<std::size_t>(indent_) * depth, ' ');
  }

  // Escapes as nlohmann's serializer does without ensure_ascii: quote, backslash and control
  // characters; each invalid UTF-8 sequence becomes U+FFFD, and the byte that broke a sequence is
  // read again as the start of the next one.
  void escape(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        switch (c) {
          case '"': out_ += "\\\""; break;
          case '\\': out_ += "\\\\"; break;
          case '\b': out_ += "\\b"; break;
          case '\f': out_ += "\\f"; break;
          case '\n': out_ += "\\n"; break;
          case '\r': out_ += "\\r"; break;
          case '\t': out_ += "\\t"; break;
          default:
            if (c < 0x20) {
              char buf[8];
              std::snprintf(buf, sizeof buf, "\\u%04x", c);
              out_ += buf;
            } else {
              out_ += static_cast<char>(c);
            }
        }
        ++i;
        continue;
      }
      std::size_t n = sequence_length(s, i);
      if (n == 0) {
        out_ += "\xEF\xBF\xBD";
        // The lead byte alone was bad: skip it. A bad continuation: skip what was good of the
        // sequence so far and read the breaking byte again.
        i += std::max<std::size_t>(1, good_prefix_);
        continue;
      }
      out_.append(s.substr(i, n));
      i += n;
    }
  }

  // Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no surrogates,
  // nothing above U+10FFFF), or 0 with good_prefix_ set to how many bytes were acceptable.
  std::size_t sequence_length(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    std::size_t need;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF)
      need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      need = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      good_prefix_ = 1;
      return 0;
    }
    for (std::size_t k = 1; k < need; ++k) {
      if (i + k >= s.size()) {
        good_prefix_ = s.size() - i;  // cut off at the end: the rest is one replacement
        return 0;
      }
      unsigned char x = b(k);
      unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (x < l || x > h) {
        good_prefix_ = k;
        return 0;
      }
    }
    return need;
  }

  int indent_;
  std::string out_;
  std::vector<std::size_t> counts_;  // members written so far, per open object or array
  std::size_t good_prefix_ = 0;
};

}  // namespace bpfprobe::render
