// The kernel snapshot's file layout (docs/snapshot.md): a magic, a format version and a list of
// sections, each compressed with zstd. Shared by the writer (check/snapshot_write.hpp) and the reader
// (check/snapshot.hpp); every size the reader meets is bounded by the limits below.
#pragma once

#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace bpfprobe::snapshot {

inline constexpr char magic[8] = {'B', 'P', 'F', 'P', 'S', 'N', 'A', 'P'};
// Bump when a reader of the old version would misread a new file (a changed section, a new meaning).
// A new optional section gets a new id instead: readers skip ids they do not know.
inline constexpr std::uint32_t format_version = 1;

// The verdicts section under which a snapshot records the prober's own verdicts by cache key
// (written by snapshot_write.hpp, read back for check --target by check/target.hpp).
inline constexpr std::string_view prober_section = "prober";

enum class section_id : std::uint32_t {
  meta = 1,         // "key=value" lines, sorted by key
  verdicts = 2,     // the report's verdicts, sorted by (section, name)
  report_json = 3,  // the report as `bpfprobe --json` prints it
  vmlinux_btf = 4,  // /sys/kernel/btf/vmlinux, raw
  module_btf = 5,   // /sys/kernel/btf/<module>, raw, sorted by name
  kallsyms = 6,     // the names of /proc/kallsyms, sorted, unique, one a line
  config = 7,       // "CONFIG_X=value" lines, sorted by name
};

enum class codec : std::uint32_t { stored = 0, zstd = 1 };

// Limits: a file or section beyond them is refused before anything is allocated for it.
inline constexpr std::uint64_t max_file_size = 64ull << 20;
inline constexpr std::uint32_t max_sections = 64;
inline constexpr std::uint64_t max_total_raw = 512ull << 20;
inline constexpr std::size_t max_string = 1u << 16;
inline constexpr std::size_t max_symbol = 512;  // KSYM_NAME_LEN
inline constexpr std::size_t max_modules = 4096;

// One word of printable ASCII (no spaces, no control bytes), 1 to MAX bytes: a name a line-based
// section can hold.
inline bool printable_word(std::string_view name, std::size_t max) {
  return !name.empty() && name.size() <= max &&
         std::all_of(name.begin(), name.end(), [](unsigned char ch) { return ch > 0x20 && ch < 0x7f; });
}

// A kallsyms name the snapshot stores, at most KSYM_NAME_LEN. Debian's arm64 kernels also list
// compiler-local labels with control bytes (".L14472\x021" on 7.3 arm64): nothing can attach to or link
// against those, so the writer leaves them out and the reader refuses them.
inline bool storable_symbol(std::string_view name) { return printable_word(name, max_symbol); }
// Level 19, though 12 is about 5x faster (1.1 s against 6.0 s here): 12 makes the snapshot 12-13 %
// larger, and a Debian 7.3 snapshot (2.61 MB at 19 in the arm64 guest, 2.95 MB at 12) would pass the
// 3 MiB target with the module BTF of a real machine.
inline constexpr int zstd_level = 19;

inline std::uint64_t max_raw_size(section_id id) {
  switch (id) {
    case section_id::meta: return 1ull << 20;
    case section_id::verdicts: return 32ull << 20;
    case section_id::report_json: return 64ull << 20;
    case section_id::vmlinux_btf: return 128ull << 20;
    case section_id::module_btf: return 256ull << 20;
    case section_id::kallsyms: return 64ull << 20;
    case section_id::config: return 4ull << 20;
  }
  return 64ull << 20;  // an id this version does not know: skipped, but still bounded
}

inline std::string_view section_name(std::uint32_t id) {
  switch (static_cast<section_id>(id)) {
    case section_id::meta: return "meta";
    case section_id::verdicts: return "verdicts";
    case section_id::report_json: return "report_json";
    case section_id::vmlinux_btf: return "vmlinux_btf";
    case section_id::module_btf: return "module_btf";
    case section_id::kallsyms: return "kallsyms";
    case section_id::config: return "config";
  }
  return "unknown";
}

// Header: magic, u32 format_version, u32 section count. Section: u32 id, u32 codec, u64 raw size,
// u64 stored size, then the stored bytes. All integers little-endian.
inline constexpr std::size_t header_size = sizeof magic + 4 + 4;
inline constexpr std::size_t section_header_size = 4 + 4 + 8 + 8;

namespace detail {

inline void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline std::uint64_t get_le(std::string_view in, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  return v;
}

// A bounded cursor over untrusted bytes: every read past the end fails it (and reads zeros).
class cursor {
 public:
  explicit cursor(std::string_view data) : p_(data) {}
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] std::size_t left() const noexcept { return p_.size(); }
  std::string_view bytes(std::uint64_t n) {
    if (!ok_ || n > p_.size()) return ok_ = false, std::string_view{};
    auto out = p_.substr(0, static_cast<std::size_t>(n));
    p_.remove_prefix(static_cast<std::size_t>(n));
    return out;
  }
  std::uint64_t le(int n) {
    auto b = bytes(static_cast<std::uint64_t>(n));
    return ok_ ? get_le(b, n) : 0;
  }
  std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
  std::uint64_t u64() { return le(8); }
  std::uint8_t u8() { return static_cast<std::uint8_t>(le(1)); }
  std::string_view str(std::size_t limit = max_string) {
    std::uint32_t n = u32();
    if (n > limit) return ok_ = false, std::string_view{};
    return bytes(n);
  }
  void fail() noexcept { ok_ = false; }

 private:
  std::string_view p_;
  bool ok_ = true;
};

inline void put_str(std::string& out, std::string_view s) {
  put_le(out, s.size(), 4);
  out.append(s);
}

}  // namespace detail

// zstd at a fixed level, with the content size in the frame: the same input gives the same bytes with
// the same libzstd.
inline std::optional<std::string> compress(std::string_view raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), zstd_level);
  if (ZSTD_isError(n)) return std::nullopt;
  out.resize(n);
  return out;
}

// Decompresses one frame into exactly `raw_size` bytes (already checked against the limits): a frame
// that claims or yields any other size is refused, so no input makes more than `raw_size` bytes.
inline std::optional<std::string> decompress(std::string_view stored, std::uint64_t raw_size, std::string& why) {
  unsigned long long claimed = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (claimed == ZSTD_CONTENTSIZE_ERROR || claimed == ZSTD_CONTENTSIZE_UNKNOWN) {
    why = "not a zstd frame with its content size";
    return std::nullopt;
  }
  if (claimed != raw_size) {
    why = "zstd frame holds " + std::to_string(claimed) + " bytes, the section header says " + std::to_string(raw_size);
    return std::nullopt;
  }
  if (ZSTD_findFrameCompressedSize(stored.data(), stored.size()) != stored.size()) {
    why = "bytes after the zstd frame, or a truncated frame";
    return std::nullopt;
  }
  std::string out(static_cast<std::size_t>(raw_size), '\0');
  std::size_t n = ZSTD_decompress(out.data(), out.size(), stored.data(), stored.size());
  if (ZSTD_isError(n) || n != raw_size) {
    why = std::string("zstd: ") + (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
    return std::nullopt;
  }
  return out;
}

}  // namespace bpfprobe::snapshot
