// The result of checking a BPF object against the running kernel: one entry per program and map.
// docs/check-json.md documents the JSON form of these structs (src/check.cpp renders it).
#pragma once

#include <bpfprobe/probe/verdict.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bpfprobe::objcheck {

// Where in the object's code: a code section and an instruction index into it.
struct code_site {
  std::string section;
  std::size_t insn = 0;
};

// A line of the program's source, from the object's .BTF.ext line info. `from` says what decided it:
// "verifier" (the trial load's failing instruction), "static" (the first call or CO-RE relocation of
// the deciding need) or "program" (the program's first line).
struct source_location {
  std::string file;                    // as the compiler recorded it (often an absolute path)
  std::uint32_t line = 0, column = 0;  // column 0: not recorded
  std::string from;
};

// One fact a program depends on ("helper/kprobe/bpf_ringbuf_output", "core/task_struct.__state")
// with that fact's verdict on this kernel, and for a call or CO-RE relocation its first site.
struct need {
  std::string fact;
  verdict v;
  std::optional<code_site> site = std::nullopt;
};

struct program_result {
  std::string name, section;
  std::string prog_type;         // libbpf's name ("kprobe", "tracing", ...)
  std::string attach_type;       // expected attach type, empty when the type has none
  std::string target;            // attach target from the section ("do_unlinkat"), empty if none
  bool placeholder = false;      // the target is set at run time (SEC("fentry") without a name)
  verdict result;                // the verdict shown: trial when it ran, else static
  verdict static_v;              // static prediction (no program of the object loaded)
  std::optional<verdict> trial;  // the real load, when it ran
  verdict attach;                // can it be attached by its section's path here (not part of `result`)
  std::vector<need> needs;
  std::string instead;  // attach path or sibling program to use instead, empty when none
  std::vector<std::string> warnings;
  std::string code = "ok";  // failure taxonomy (taxonomy.hpp, docs/check-json.md) of `result`
  std::string fix;          // one line: what would make it load; empty when ok
  // The kernel verifier's own analysis: "not run" (static only), "passed", "rejected" (its log
  // decided), "not reached" (the load failed before it).
  std::string verifier = "not run";
  // The source line of the instruction that decided a program that does not load (the program's first
  // line for one that does, or when nothing finer is known); empty without .BTF.ext line info.
  std::optional<source_location> source;
  [[nodiscard]] bool disagree() const { return trial && trial->state != static_v.state; }
};

struct map_result {
  std::string name, type;
  std::uint32_t flags = 0;
  verdict v;
  std::vector<need> needs;
  std::string code = "ok", fix;  // as for programs
  std::string pin_path;          // where libbpf pins it (LIBBPF_PIN_BY_NAME), empty when not pinned
};

struct object_result {
  std::string path;
  verdict v;  // the worst program verdict (unsupported > unknown > supported)
  std::vector<program_result> programs;
  std::vector<map_result> maps;
  [[nodiscard]] std::size_t disagreements() const {
    std::size_t n = 0;
    for (const auto& p : programs) n += p.disagree();
    return n;
  }
};

// The worse of two states: unsupported beats unknown beats supported.
constexpr int severity(status s) noexcept { return s == status::unsupported ? 2 : s == status::unknown ? 1 : 0; }

}  // namespace bpfprobe::objcheck
