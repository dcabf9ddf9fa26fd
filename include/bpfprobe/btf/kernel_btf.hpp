// The running kernel's facts from its own BTF: enums, FUNCs, decl tags, struct members.
#pragma once

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bpfprobe/btf/builtin_enums.hpp>
#include <bpfprobe/btf/names.hpp>
#include <bpfprobe/sys/result.hpp>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe::btf {

inline constexpr const char* vmlinux_path = "/sys/kernel/btf/vmlinux";

struct btf_deleter {
  void operator()(struct btf* b) const noexcept { btf__free(b); }
};
using btf_ptr = std::unique_ptr<struct btf, btf_deleter>;

// One enumerator with the prefix stripped and lower-cased: BPF_PROG_TYPE_XDP -> "xdp".
struct entry {
  std::string name;
  std::int64_t value;
  friend bool operator==(const entry&, const entry&) = default;
};

inline std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

class kernel_btf {
 public:
  // vmlinux BTF of the running kernel, or an explicit file (raw BTF in either byte order, or an ELF
  // object with a .BTF section). Only a regular file is read: the path is opened without blocking
  // (a FIFO would block open() forever) and checked with fstat; then the bytes come from that fd.
  static sys::result<kernel_btf> open(const std::filesystem::path& path = vmlinux_path) {
    std::string what = "open BTF " + escape(path.native(), 200);
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return sys::failure(errno, what);
    struct fd_closer {
      int fd;
      ~fd_closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (fstat(fd, &st) != 0) return sys::failure(errno, what);
    if (!S_ISREG(st.st_mode)) {
      const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                         : S_ISFIFO(st.st_mode) ? "a FIFO"
                         : S_ISCHR(st.st_mode)  ? "a character device"
                         : S_ISBLK(st.st_mode)  ? "a block device"
                         : S_ISSOCK(st.st_mode) ? "a socket"
                                                : "a special file";
      return sys::failure_msg(what, std::string("is ") + kind + ", not a regular file",
                              S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
    }
    auto parsed = detail_parse(fd);
    if (!parsed) {
      auto e = parsed.error();
      e.op = "parse BTF " + escape(path.native(), 200);
      return BOOST_OUTCOME_V2_NAMESPACE::failure(std::move(e));
    }
    kernel_btf k;
    k.btf_.reset(parsed.value());
    k.path_ = path.string();
    return k;
  }

  // Raw BTF held in memory (a kernel snapshot's vmlinux BTF), checked as a file's is; `label` names
  // it in messages.
  static sys::result<kernel_btf> parse(std::string_view bytes, std::string label) {
    auto parsed = from_bytes(bytes.data(), bytes.size());
    if (!parsed) {
      auto e = parsed.error();
      e.op = "parse BTF " + escape(label, 200);
      return BOOST_OUTCOME_V2_NAMESPACE::failure(std::move(e));
    }
    kernel_btf k;
    k.btf_.reset(parsed.value());
    k.path_ = std::move(label);
    return k;
  }

  // Split BTF of a kernel module on top of this (base) BTF.
  sys::result<kernel_btf> open_module(const std::filesystem::path& path) const {
    errno = 0;
    struct btf* raw = btf__parse_split(path.c_str(), btf_.get());
    int err = static_cast<int>(-libbpf_get_error(raw));
    if (!raw || err) {
      if (err == 0) err = errno ? errno : EINVAL;
      if (err >= 4000) err = EINVAL;
      return sys::failure_msg("parse module BTF " + path.string(), "not valid split BTF", err);
    }
    kernel_btf k;
    k.btf_.reset(raw);
    k.path_ = path.string();
    return k;
  }

  [[nodiscard]] const struct btf* get() const noexcept { return btf_.get(); }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  [[nodiscard]] std::optional<std::uint32_t> find(std::string_view name, int kind) const {
    std::string n(name);
    int id = btf__find_by_name_kind(btf_.get(), n.c_str(), kind);
    if (id <= 0) return std::nullopt;
    return static_cast<std::uint32_t>(id);
  }
  [[nodiscard]] std::optional<std::uint32_t> find_func(std::string_view name) const {
    return find(name, BTF_KIND_FUNC);
  }
  [[nodiscard]] std::optional<std::uint32_t> find_struct(std::string_view name) const {
    return find(name, BTF_KIND_STRUCT);
  }

  [[nodiscard]] std::string_view name_of(std::uint32_t id) const {
    const btf_type* t = btf__type_by_id(btf_.get(), id);
    if (!t) return {};
    const char* n = btf__name_by_offset(btf_.get(), t->name_off);
    return n ? std::string_view(n) : std::string_view();
  }

  // Every enumerator of `enum <enum_name>` (ENUM or ENUM64) as the file has it, names unchecked;
  // nullopt when there is no such enum.
  struct raw_enumerator {
    std::string_view name;
    std::int64_t value;
  };
  [[nodiscard]] std::optional<std::vector<raw_enumerator>> raw_enumerators(std::string_view enum_name) const {
    auto id = find(enum_name, BTF_KIND_ENUM);
    if (!id) id = find(enum_name, BTF_KIND_ENUM64);
    if (!id) return std::nullopt;
    return raw_enumerators_of(*id);
  }
  // The same for the ENUM or ENUM64 type `id` (empty for any other kind).
  [[nodiscard]] std::vector<raw_enumerator> raw_enumerators_of(std::uint32_t id) const {
    const btf_type* t = btf__type_by_id(btf_.get(), id);
    std::vector<raw_enumerator> out;
    if (!t || !(btf_is_enum(t) || btf_is_enum64(t))) return out;
    auto name = [&](std::uint32_t off) {
      const char* n = btf__name_by_offset(btf_.get(), off);
      return n ? std::string_view(n) : std::string_view();
    };
    if (btf_is_enum(t)) {
      const struct btf_enum* e = btf_enum(t);
      for (unsigned i = 0; i < btf_vlen(t); ++i)
        out.push_back({name(e[i].name_off), static_cast<std::int64_t>(e[i].val)});
    } else {
      const struct btf_enum64* e = btf_enum64(t);
      for (unsigned i = 0; i < btf_vlen(t); ++i)
        out.push_back({name(e[i].name_off), static_cast<std::int64_t>(btf_enum64_value(&e[i]))});
    }
    return out;
  }

  // Enumerators of `enum <enum_name>` whose names start with `prefix`, prefix stripped and lower-cased.
  // UNSPEC, __MAX_* and aliases of an earlier value (the *_DEPRECATED names) are dropped, and so are
  // a repeated name and a name that is not a C identifier (only a corrupt or crafted BTF has those).
  [[nodiscard]] std::vector<entry> enumerators(std::string_view enum_name, std::string_view prefix) const {
    std::vector<entry> out;
    std::set<std::int64_t> seen;
    std::set<std::string, std::less<>> names;
    for (const auto& [raw, value] : raw_enumerators(enum_name).value_or(std::vector<raw_enumerator>{})) {
      if (!is_identifier(raw) || !raw.starts_with(prefix)) continue;
      std::string_view n = raw.substr(prefix.size());
      if (!is_identifier(n) || lower(n) == "unspec" || n.starts_with("__") ||
          n.find("DEPRECATED") != std::string_view::npos)
        continue;  // BPF_PROG_TYPE_1X would give the name "1x"
      if (seen.contains(value) || !names.insert(lower(n)).second) continue;  // an alias, or a repeated name
      seen.insert(value);
      out.push_back({lower(n), value});
    }
    return out;
  }

  // FUNC ids carrying `decl_tag("<tag>")` on the function itself (component_idx == -1).
  [[nodiscard]] std::vector<std::uint32_t> tagged_funcs(std::string_view tag) const {
    std::vector<std::uint32_t> out;
    const struct btf* base = btf__base_btf(btf_.get());
    std::uint32_t start = base ? btf__type_cnt(base) : 1;
    for (std::uint32_t id = start; id < btf__type_cnt(btf_.get()); ++id) {
      const btf_type* t = btf__type_by_id(btf_.get(), id);
      if (!btf_is_decl_tag(t) || btf_decl_tag(t)->component_idx != -1) continue;
      if (std::string_view(btf__name_by_offset(btf_.get(), t->name_off)) != tag) continue;
      const btf_type* target = btf__type_by_id(btf_.get(), t->type);
      if (target && btf_is_func(target)) out.push_back(t->type);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // Index of a struct member by name, or nullopt.
  [[nodiscard]] std::optional<unsigned> member_index(std::uint32_t struct_id, std::string_view member) const {
    const btf_type* t = btf__type_by_id(btf_.get(), struct_id);
    if (!t || !btf_is_composite(t)) return std::nullopt;
    const btf_member* m = btf_members(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i)
      if (std::string_view(btf__name_by_offset(btf_.get(), m[i].name_off)) == member) return i;
    return std::nullopt;
  }

  [[nodiscard]] std::optional<std::uint32_t> type_size(std::uint32_t id) const {
    long sz = btf__resolve_size(btf_.get(), id);
    if (sz < 0) return std::nullopt;
    return static_cast<std::uint32_t>(sz);
  }

  // Raw BTF bytes (base BTF, not ELF) as a libbpf object the caller frees, with the checks a file gets.
  static sys::result<struct btf*> parse_raw(const void* data, std::size_t size) { return from_bytes(data, size); }

 private:
  // The file behind `fd` as a libbpf BTF object. ELF objects are read with libelf and only the
  // .BTF section's bytes go to libbpf: libbpf 1.4's own ELF reader copies from a null pointer
  // when .BTF is SHT_NOBITS (tests/fuzz/corpus/btf/any-elf-btf-nobits.o).
  static sys::result<struct btf*> detail_parse(int fd) {
    static constexpr std::size_t max_size = std::size_t{1} << 30;
    unsigned char magic[4] = {};
    ssize_t got = ::pread(fd, magic, sizeof(magic), 0);
    if (got < 0) return sys::failure(errno, "read");
    if (got == 4 && std::memcmp(magic, ELFMAG, SELFMAG) == 0) return parse_elf(fd);
    std::vector<char> data;
    for (;;) {
      if (data.size() >= max_size) return sys::failure_msg("read", "larger than 1 GiB", EFBIG);
      std::size_t old = data.size();
      data.resize(old + 65536);
      ssize_t n = ::pread(fd, data.data() + old, 65536, static_cast<off_t>(old));
      if (n < 0 && errno == EINTR) {
        data.resize(old);
        continue;
      }
      if (n < 0) return sys::failure(errno, "read");
      data.resize(old + static_cast<std::size_t>(n));
      if (n == 0) break;
    }
    return from_bytes(data.data(), data.size());
  }

  static sys::result<struct btf*> from_bytes(const void* data, std::size_t size) {
    if (size == 0) return sys::failure_msg("", "empty", EINVAL);
    // libbpf 1.4 checks that the type section is aligned within the data but not the header
    // length it starts after: a header of 25 bytes would have every type read misaligned.
    if (size >= sizeof(btf_header)) {
      btf_header h;
      std::memcpy(&h, data, sizeof(h));
      std::uint32_t len = h.magic == BTF_MAGIC ? h.hdr_len : __builtin_bswap32(h.hdr_len);
      if ((h.magic == BTF_MAGIC || h.magic == __builtin_bswap16(BTF_MAGIC)) && len % 4 != 0)
        return sys::failure_msg("", "BTF header length " + std::to_string(len) + " is not a multiple of 4", EINVAL);
    }
    errno = 0;
    struct btf* raw = btf__new(data, static_cast<__u32>(size));
    int err = static_cast<int>(-libbpf_get_error(raw));
    if (!raw || err) {
      if (err == 0) err = errno ? errno : EINVAL;
      if (err >= 4000 || err == EPROTO) err = EINVAL;  // libbpf's own format errors; EPROTO: bad magic
      return sys::failure_msg("", "not valid BTF or ELF with .BTF", err);
    }
    return raw;
  }

  static sys::result<struct btf*> parse_elf(int fd) {
    auto bad = [](const std::string& why) { return sys::failure_msg("", "ELF: " + why, EINVAL); };
    if (elf_version(EV_CURRENT) == EV_NONE) return bad("libelf is too old");
    struct elf_closer {
      Elf* e;
      ~elf_closer() { elf_end(e); }
    } elf{elf_begin(fd, ELF_C_READ, nullptr)};
    if (!elf.e || elf_kind(elf.e) != ELF_K_ELF) return bad("not an ELF object");
    std::size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf.e, &shstrndx) != 0) return bad("no section name table");
    Elf_Data* btf_data = nullptr;
    for (Elf_Scn* scn = elf_nextscn(elf.e, nullptr); scn; scn = elf_nextscn(elf.e, scn)) {
      GElf_Shdr sh;
      if (!gelf_getshdr(scn, &sh)) return bad("unreadable section header");
      const char* name = elf_strptr(elf.e, shstrndx, sh.sh_name);
      if (!name) return bad("section without a name");
      if (std::strcmp(name, ".BTF") != 0) continue;
      if (btf_data) return bad("two .BTF sections");
      if (sh.sh_type == SHT_NOBITS) return bad(".BTF has no data (SHT_NOBITS)");
      btf_data = elf_getdata(scn, nullptr);
      if (!btf_data || !btf_data->d_buf || btf_data->d_size == 0) return bad(".BTF section cannot be read");
    }
    if (!btf_data) return bad("no .BTF section");
    return from_bytes(btf_data->d_buf, btf_data->d_size);
  }

  btf_ptr btf_;
  std::string path_;
};

// The enum tables probes iterate: from the kernel's BTF when there is one, else built-in.
struct kernel_enums {
  std::vector<entry> prog_types, map_types, attach_types, link_types, helpers;
  bool from_btf = false;
  std::string source;  // BTF path, or why the built-in tables are used

  [[nodiscard]] static std::optional<std::int64_t> value_of(const std::vector<entry>& table, std::string_view name) {
    for (const auto& e : table)
      if (e.name == name) return e.value;
    return std::nullopt;
  }
  [[nodiscard]] static std::string name_of(const std::vector<entry>& table, std::int64_t value) {
    for (const auto& e : table)
      if (e.value == value) return e.name;
    return {};
  }
};

namespace detail {
inline std::vector<entry> to_entries(std::span<const named_value> rows) {
  std::vector<entry> out;
  for (const auto& r : rows) out.push_back({std::string(r.name), r.value});
  return out;
}
}  // namespace detail

inline kernel_enums enums_from(const kernel_btf& k) {
  kernel_enums e;
  e.prog_types = k.enumerators("bpf_prog_type", "BPF_PROG_TYPE_");
  e.map_types = k.enumerators("bpf_map_type", "BPF_MAP_TYPE_");
  e.attach_types = k.enumerators("bpf_attach_type", "BPF_");
  e.link_types = k.enumerators("bpf_link_type", "BPF_LINK_TYPE_");
  for (auto& h : k.enumerators("bpf_func_id", "BPF_FUNC_")) e.helpers.push_back({"bpf_" + h.name, h.value});
  e.from_btf = true;
  e.source = k.path();
  return e;
}

inline kernel_enums builtin_enums(std::string why) {
  kernel_enums e;
  e.prog_types = detail::to_entries(builtin_prog_types);
  e.map_types = detail::to_entries(builtin_map_types);
  e.attach_types = detail::to_entries(builtin_attach_types);
  e.link_types = detail::to_entries(builtin_link_types);
  e.helpers = detail::to_entries(builtin_helpers());
  e.from_btf = false;
  e.source = std::move(why);
  return e;
}

}  // namespace bpfprobe::btf
