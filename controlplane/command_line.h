// Strict command-line parsing for the clusterdns binary, on top of abseil flags:
//   clusterdns [EAL options] -- [options]     (DESIGN.md "Interface")
// - Everything before a bare "--" is left for the DPDK EAL; without "--" every argument is an
//   option.
// - Names may be spelled with dashes (--legacy-names) or underscores; --name=value, --name value,
//   --bool, --nobool.
// - Flags listed as repeatable accumulate: --listen=a --listen=b is --listen=a,b (the flag is a
//   comma-separated std::vector<std::string>).
// - Every problem is one Status naming the argument ("unknown flag --foo", "--ttl=abc: ..."), so
//   main can print one line and exit 2 (abseil's own ParseCommandLine exits 1 by itself).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace clusterdns::controlplane {

struct CommandLine {
  std::vector<std::string> eal_args;  // before "--" (argv[0] not included)
  bool help = false;                  // --help / -h was given
};

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv,
                                             const std::vector<std::string>& repeatable);

// Every flag defined in a file whose path contains `source_filter`, sorted, spelled with dashes:
//   --http-addr=127.0.0.1:8080
//       /health, /ready and /metrics are served here
std::string FlagsHelp(std::string_view source_filter);

}  // namespace clusterdns::controlplane
