// The persistent cache's file layout: the verdicts and the stored sections of the full report,
// serialized with interned strings and parsed back with every count and index bounded.
#pragma once

#include <bpfprobe/probe/fact.hpp>
#include <bpfprobe/probe/persist_key.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::probe::persist {

inline constexpr std::size_t max_string = 1u << 16;
inline constexpr char magic[8] = {'B', 'P', 'F', 'P', 'C', 'A', 'C', 'H'};

// One section of the full report as stored: the facts the prober keeps (stable_causes::keeps), and
// the places of the others (`missing`), which the next run probes again.
struct stored_section {
  std::string name;  // "program_types", "map_types", "misc", "helper:<type>", "more:<name>"
  section facts;
  std::vector<char> missing;
};

struct stored_report {
  std::string names_source, btf_path, kfunc_list_source, kfuncs_undecided_reason;
  bool names_from_btf = false;
  std::uint64_t kfuncs_undecided = 0;
  std::vector<std::string> kfunc_names;
  std::vector<stored_section> sections;

  [[nodiscard]] const stored_section* find(std::string_view name) const {
    for (const auto& s : sections)
      if (s.name == name) return &s;
    return nullptr;
  }
};

struct contents {
  std::map<std::string, verdict, std::less<>> verdicts;
  std::optional<stored_report> report;
  bool report_follows = false;  // parsed without the report (parse(..., false)), which the file has
};

namespace detail {

// Strings are interned: reasons and evidence repeat thousands of times.
class writer {
 public:
  std::uint32_t str(const std::string& s) {
    auto [it, added] = index_.try_emplace(s, static_cast<std::uint32_t>(strings_.size()));
    if (added) strings_.push_back(&it->first);
    return it->second;
  }
  void u8(std::uint8_t v) { body_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { body_.append(reinterpret_cast<const char*>(&v), 4); }
  void u64(std::uint64_t v) { body_.append(reinterpret_cast<const char*>(&v), 8); }
  void s(const std::string& v) { u32(str(v)); }

  void v(const verdict& x) {
    u8(static_cast<std::uint8_t>(x.state));
    u32(static_cast<std::uint32_t>(x.err));
    s(x.reason);
    s(x.evidence);
    u8(x.value ? 1 : 0);
    if (x.value) u64(static_cast<std::uint64_t>(*x.value));
  }

  std::string finish(const std::string& key) {
    std::string out(magic, sizeof magic);
    auto raw32 = [&](std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
    raw32(schema);
    raw32(static_cast<std::uint32_t>(key.size()));
    out += key;
    raw32(static_cast<std::uint32_t>(strings_.size()));
    for (const auto* p : strings_) {
      raw32(static_cast<std::uint32_t>(std::min(p->size(), max_string)));
      out.append(*p, 0, std::min(p->size(), max_string));
    }
    out += body_;
    return out;
  }

 private:
  std::map<std::string, std::uint32_t, std::less<>> index_;
  std::vector<const std::string*> strings_;
  std::string body_;
};

class reader {
 public:
  explicit reader(std::string_view data) : p_(data) {}
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] bool at_end() const noexcept { return p_.empty(); }

  std::string_view bytes(std::size_t n) {
    if (!ok_ || n > p_.size()) return fail(), std::string_view{};
    auto out = p_.substr(0, n);
    p_.remove_prefix(n);
    return out;
  }
  std::uint8_t u8() {
    auto b = bytes(1);
    return b.empty() ? 0 : static_cast<std::uint8_t>(b[0]);
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    if (auto b = bytes(4); b.size() == 4) std::memcpy(&v, b.data(), 4);
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    if (auto b = bytes(8); b.size() == 8) std::memcpy(&v, b.data(), 8);
    return v;
  }
  // A count of elements that each take at least `min_bytes`: more than the rest of the file can hold
  // is corrupt (and never becomes a huge allocation).
  std::uint32_t count(std::size_t min_bytes) {
    std::uint32_t n = u32();
    if (ok_ && static_cast<std::uint64_t>(n) * min_bytes > p_.size()) fail();
    return ok_ ? n : 0;
  }
  void load_strings() {
    std::uint32_t n = count(4);
    strings_.reserve(n);
    for (std::uint32_t i = 0; i < n && ok_; ++i) {
      std::uint32_t len = u32();
      if (len > max_string) fail();
      strings_.push_back(bytes(len));
    }
  }
  std::string s() {
    std::uint32_t i = u32();
    if (i >= strings_.size()) return fail(), std::string{};
    return std::string(strings_[i]);
  }
  // An unknown verdict is kept only for an EPERM (stable_causes); any other one is corrupt.
  verdict v() {
    verdict x;
    std::uint8_t st = u8();
    if (st > 2) fail();
    x.state = static_cast<status>(st);
    x.err = static_cast<int>(u32());
    if (x.state == status::unknown && x.err != EPERM) fail();
    x.reason = s();
    x.evidence = s();
    std::uint8_t has_value = u8();
    if (has_value > 1) fail();
    if (has_value) x.value = static_cast<std::int64_t>(u64());
    return x;
  }
  void fail() noexcept { ok_ = false; }

 private:
  std::string_view p_;
  std::vector<std::string_view> strings_;
  bool ok_ = true;
};

inline void write_fact(writer& w, const fact& f, bool missing) {
  w.s(f.name);
  w.u8(missing ? 1 : 0);
  if (missing) return;
  w.v(f.v);
  w.s(f.first_kernel);
  w.s(f.commit);
  w.u32(static_cast<std::uint32_t>(f.attrs.size()));
  for (const auto& [k, v] : f.attrs) w.s(k), w.s(v);
  w.u32(static_cast<std::uint32_t>(f.lists.size()));
  for (const auto& [k, items] : f.lists) {
    w.s(k);
    w.u32(static_cast<std::uint32_t>(items.size()));
    for (const auto& i : items) w.s(i);
  }
}

inline void read_fact(reader& r, fact& f, char& missing) {
  f.name = r.s();
  missing = static_cast<char>(r.u8());
  if (missing > 1) r.fail();
  if (missing) return;
  f.v = r.v();
  f.first_kernel = r.s();
  f.commit = r.s();
  for (std::uint32_t n = r.count(8), i = 0; i < n && r.ok(); ++i) {
    auto k = r.s();
    f.attrs.emplace_back(std::move(k), r.s());
  }
  for (std::uint32_t n = r.count(8), i = 0; i < n && r.ok(); ++i) {
    auto& [k, items] = f.lists.emplace_back(r.s(), std::vector<std::string>{});
    for (std::uint32_t m = r.count(4), j = 0; j < m && r.ok(); ++j) items.push_back(r.s());
  }
}

}  // namespace detail

// Writes what `keep` keeps (by default the conclusive verdicts): the verdicts, and the section facts
// not marked missing.
inline std::string serialize(const std::string& key, const contents& c, const stable_causes& keep = {}) {
  detail::writer w;
  std::uint32_t n = 0;
  for (const auto& [k, v] : c.verdicts) n += keep.keeps(v);
  w.u32(n);
  for (const auto& [k, v] : c.verdicts)
    if (keep.keeps(v)) w.s(k), w.v(v);
  w.u8(c.report ? 1 : 0);
  if (const auto& r = c.report) {
    w.s(r->names_source);
    w.s(r->btf_path);
    w.s(r->kfunc_list_source);
    w.s(r->kfuncs_undecided_reason);
    w.u8(r->names_from_btf ? 1 : 0);
    w.u64(r->kfuncs_undecided);
    w.u32(static_cast<std::uint32_t>(r->kfunc_names.size()));
    for (const auto& s : r->kfunc_names) w.s(s);
    w.u32(static_cast<std::uint32_t>(r->sections.size()));
    for (const auto& s : r->sections) {
      w.s(s.name);
      w.u32(static_cast<std::uint32_t>(s.facts.size()));
      for (std::size_t i = 0; i < s.facts.size(); ++i)
        detail::write_fact(w, s.facts[i], s.missing[i] || !keep.keeps(s.facts[i].v));
    }
  }
  return w.finish(key);
}

// nullopt unless `data` is a whole, well-formed file made for exactly this key. Without `with_report`
// only the verdicts are read (a single query needs no more); the report is checked when it is read.
inline std::optional<contents> parse(std::string_view data, const std::string& key, bool with_report = true) {
  detail::reader r(data);
  if (r.bytes(sizeof magic) != std::string_view(magic, sizeof magic)) return std::nullopt;
  if (r.u32() != schema) return std::nullopt;
  std::uint32_t key_len = r.u32();
  if (key_len != key.size() || r.bytes(key_len) != key) return std::nullopt;
  r.load_strings();
  contents c;
  for (std::uint32_t n = r.count(18), i = 0; i < n && r.ok(); ++i) {
    auto k = r.s();
    c.verdicts.insert_or_assign(std::move(k), r.v());
  }
  std::uint8_t has_report = r.u8();
  if (has_report > 1) r.fail();
  if (!with_report) {
    if (!r.ok()) return std::nullopt;
    c.report_follows = has_report == 1;
    return c;
  }
  if (has_report && r.ok()) {
    auto& rep = c.report.emplace();
    rep.names_source = r.s();
    rep.btf_path = r.s();
    rep.kfunc_list_source = r.s();
    rep.kfuncs_undecided_reason = r.s();
    rep.names_from_btf = r.u8() != 0;
    rep.kfuncs_undecided = r.u64();
    for (std::uint32_t n = r.count(4), i = 0; i < n && r.ok(); ++i) rep.kfunc_names.push_back(r.s());
    for (std::uint32_t n = r.count(8), i = 0; i < n && r.ok(); ++i) {
      auto& s = rep.sections.emplace_back();
      s.name = r.s();
      std::uint32_t m = r.count(5);
      s.facts.resize(m);
      s.missing.resize(m);
      for (std::uint32_t j = 0; j < m && r.ok(); ++j) detail::read_fact(r, s.facts[j], s.missing[j]);
    }
  }
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return c;
}

}  // namespace bpfprobe::probe::persist
