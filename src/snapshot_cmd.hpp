// `bpfprobe snapshot -o FILE` (write this kernel's snapshot) and `bpfprobe snapshot --show FILE`
// (read one back and summarize it): docs/snapshot.md.
#pragma once

#include <CLI/CLI.hpp>
#include <bpfprobe/probe/context.hpp>
#include <ostream>
#include <string>

namespace bpfprobe::cli {

struct snapshot_request {
  std::string output, show;
  CLI::App* command = nullptr;
};

void add_snapshot_command(CLI::App& app, snapshot_request& req);
// Exit 0; 2 when --show's file is not a valid snapshot (one line on stderr); 4 when the snapshot could
// not be made or written.
int run_snapshot(std::ostream& out, std::ostream& err, const snapshot_request& req, const probe::options& opt);

}  // namespace bpfprobe::cli
