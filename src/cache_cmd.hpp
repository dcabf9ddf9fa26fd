// The persistent verdict cache on the command line: --no-cache, --refresh, --cache-dir and the
// `cache show|clear` subcommand.
#pragma once

#include <CLI/CLI.hpp>
#include <bpfprobe/probe/context.hpp>
#include <ostream>
#include <string>

namespace bpfprobe::cli {

struct cache_flags {
  bool off = false, refresh = false;
  std::string dir;
  std::string action;  // "show" or "clear" when the subcommand was given
  CLI::App* command = nullptr;
};

void add_cache_options(CLI::App& app, cache_flags& f);
// The prober's cache options from the flags.
void apply_cache_flags(const cache_flags& f, probe::options& opt);
// `bpfprobe cache show|clear`: exit 0, or 4 when the cache could not be cleared.
int run_cache_command(std::ostream& out, std::ostream& err, const cache_flags& f, const probe::options& opt);

}  // namespace bpfprobe::cli
