// A BPF ELF object read for checking: the file is read from a regular file only (a FIFO, a
// directory or a device is refused without blocking), checked to be a 64-bit EM_BPF ELF, and its
// code sections, symbols, relocations and .BTF.ext bytes are kept for the scanners.
#pragma once

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpfprobe/btf/names.hpp>
#include <bpfprobe/sys/result.hpp>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bpfprobe::objcheck {

inline constexpr std::size_t max_object_size = 512u << 20;

struct elf_symbol {
  std::string name;
  std::size_t section = 0;  // SHN_UNDEF for externs
  std::uint64_t value = 0, size = 0;
  int type = STT_NOTYPE, bind = STB_LOCAL;
};

struct code_section {
  std::string name;
  std::size_t index = 0;
  std::vector<bpf_insn> insns;
  std::map<std::size_t, std::size_t> relocs;  // instruction index -> symbol index
};

struct elf_image {
  std::string path;
  std::vector<char> bytes;
  std::vector<code_section> code;
  std::vector<elf_symbol> symbols;
  std::vector<char> btf;      // raw .BTF as compiled (libbpf rewrites its copy when opening)
  std::vector<char> btf_ext;  // raw .BTF.ext, empty when the object has none
  // Read-only data sections (.rodata, .rodata.*) by section index: libbpf loads them into frozen
  // maps whose contents the verifier knows, so constants read from there decide branches.
  std::map<std::size_t, std::vector<char>> rodata;

  [[nodiscard]] const code_section* section(std::string_view name) const {
    for (const auto& s : code)
      if (s.name == name) return &s;
    return nullptr;
  }
  [[nodiscard]] const code_section* section_by_index(std::size_t index) const {
    for (const auto& s : code)
      if (s.index == index) return &s;
    return nullptr;
  }
};

namespace detail {
struct elf_closer {
  void operator()(Elf* e) const noexcept { elf_end(e); }
};

inline std::string file_kind(mode_t m) {
  return S_ISDIR(m)    ? "a directory"
         : S_ISFIFO(m) ? "a FIFO"
         : S_ISCHR(m)  ? "a character device"
         : S_ISBLK(m)  ? "a block device"
         : S_ISSOCK(m) ? "a socket"
                       : "a special file";
}
}  // namespace detail

// Parses object bytes; the error is one line without the path.
inline std::variant<elf_image, std::string> parse_elf(std::vector<char> bytes, std::string path) {
  elf_image img;
  img.path = std::move(path);
  img.bytes = std::move(bytes);
  if (img.bytes.size() < 4 || std::memcmp(img.bytes.data(), ELFMAG, SELFMAG) != 0)
    return std::string("not an ELF file");
  elf_version(EV_CURRENT);
  std::unique_ptr<Elf, detail::elf_closer> elf(elf_memory(img.bytes.data(), img.bytes.size()));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return std::string("not a valid ELF file");
  GElf_Ehdr eh;
  if (!gelf_getehdr(elf.get(), &eh)) return std::string("corrupt ELF header");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_BPF)
    return std::string("an ELF file, but not a BPF object (machine ") + std::to_string(eh.e_machine) + ")";
  if (eh.e_type != ET_REL) return std::string("a BPF ELF file, but not a relocatable object (.bpf.o)");
  std::size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return std::string("corrupt section header string table");
  struct rel_section {
    std::size_t target;
    Elf_Data* data;
    std::size_t count;
  };
  std::vector<rel_section> rels;
  std::size_t sections = 0;
  if (elf_getshdrnum(elf.get(), &sections) != 0) return std::string("corrupt section headers");
  for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) return std::string("corrupt section header");
    const char* name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (!name) return std::string("corrupt section name");
    std::size_t index = elf_ndxscn(scn);
    if (sh.sh_type == SHT_NOBITS) continue;
    if (sh.sh_type == SHT_PROGBITS && !(sh.sh_flags & (SHF_EXECINSTR | SHF_WRITE)) &&
        (std::strcmp(name, ".rodata") == 0 || std::strncmp(name, ".rodata.", 8) == 0)) {
      Elf_Data* data = elf_getdata(scn, nullptr);  // unreadable: just no known contents
      if (data && data->d_buf && sh.sh_offset <= img.bytes.size() && sh.sh_size <= img.bytes.size() - sh.sh_offset) {
        auto* p = static_cast<const char*>(data->d_buf);
        img.rodata[index].assign(p, p + data->d_size);
      }
      continue;
    }
    bool wanted = (sh.sh_type == SHT_PROGBITS && (sh.sh_flags & SHF_EXECINSTR)) || sh.sh_type == SHT_SYMTAB ||
                  sh.sh_type == SHT_REL || std::strcmp(name, ".BTF.ext") == 0 || std::strcmp(name, ".BTF") == 0;
    if (!wanted) continue;
    if (sh.sh_offset > img.bytes.size() || sh.sh_size > img.bytes.size() - sh.sh_offset)
      return std::string("section ") + btf::escape(name, 80) + " runs past the end of the file (truncated?)";
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data || (sh.sh_size && !data->d_buf))
      return std::string("section ") + btf::escape(name, 80) + " cannot be read: " + (elf_errmsg(-1) ?: "corrupt");
    if (std::strcmp(name, ".BTF") == 0) {
      auto* p = static_cast<const char*>(data->d_buf);
      img.btf.assign(p, p + data->d_size);
    } else if (std::strcmp(name, ".BTF.ext") == 0) {
      auto* p = static_cast<const char*>(data->d_buf);
      img.btf_ext.assign(p, p + data->d_size);
    } else if (sh.sh_type == SHT_SYMTAB) {
      if (sh.sh_entsize != sizeof(Elf64_Sym)) return std::string("corrupt symbol table");
      std::size_t n = data->d_size / sizeof(Elf64_Sym);
      for (std::size_t i = 0; i < n; ++i) {
        GElf_Sym s;
        if (!gelf_getsym(data, static_cast<int>(i), &s)) return std::string("corrupt symbol table");
        const char* sn = elf_strptr(elf.get(), sh.sh_link, s.st_name);
        img.symbols.push_back(
            {sn ? sn : "", s.st_shndx, s.st_value, s.st_size, GELF_ST_TYPE(s.st_info), GELF_ST_BIND(s.st_info)});
      }
    } else if (sh.sh_type == SHT_REL) {
      if (sh.sh_entsize != sizeof(Elf64_Rel)) return std::string("corrupt relocation section ") + btf::escape(name, 80);
      rels.push_back({sh.sh_info, data, data->d_size / sizeof(Elf64_Rel)});
    } else {
      if (data->d_size % sizeof(bpf_insn) != 0)
        return std::string("code section ") + btf::escape(name, 80) + " is not a whole number of instructions";
      code_section c{name, index, {}, {}};
      c.insns.resize(data->d_size / sizeof(bpf_insn));
      if (data->d_size) std::memcpy(c.insns.data(), data->d_buf, data->d_size);
      img.code.push_back(std::move(c));
    }
  }
  for (const auto& r : rels) {
    auto* target = const_cast<code_section*>(img.section_by_index(r.target));
    if (!target) continue;  // relocations of data sections (.maps, ...) are libbpf's business
    for (std::size_t i = 0; i < r.count; ++i) {
      GElf_Rel rel;
      if (!gelf_getrel(r.data, static_cast<int>(i), &rel)) return std::string("corrupt relocation");
      std::size_t sym = GELF_R_SYM(rel.r_info);
      if (sym >= img.symbols.size() || rel.r_offset % sizeof(bpf_insn) != 0 ||
          rel.r_offset / sizeof(bpf_insn) >= target->insns.size())
        return std::string("relocation out of range in section ") + btf::escape(target->name, 80);
      target->relocs[rel.r_offset / sizeof(bpf_insn)] = sym;
    }
  }
  (void)sections;
  return img;
}

// Reads `path` (a regular file only, opened without blocking) and parses it.
inline std::variant<elf_image, std::string> read_elf(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return sys::errno_name(errno) + " (" + std::strerror(errno) + ")";
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys::errno_name(errno);
  if (!S_ISREG(st.st_mode)) return "is " + detail::file_kind(st.st_mode) + ", not a regular file";
  if (static_cast<std::uint64_t>(st.st_size) > max_object_size) return std::string("larger than 512 MiB");
  std::vector<char> bytes;
  bytes.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::errno_name(errno) + " while reading";
    }
    bytes.insert(bytes.end(), buf, buf + n);
    if (bytes.size() > max_object_size) return std::string("larger than 512 MiB");
  }
  return parse_elf(std::move(bytes), path);
}

}  // namespace bpfprobe::objcheck
