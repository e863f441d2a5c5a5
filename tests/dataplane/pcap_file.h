// A tiny libpcap file writer and reader (the classic format, not pcapng) for the golden tests:
// the test writes the frames net_pcap's rx_pcap replays, and reads back what tx_pcap recorded.
// (The golden test starts the responder with --no-pci --no-huge and a --file-prefix of its own:
// the net_pcap vdev over these files is its only port.)
// Ethernet link type only. Reads microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) files in
// either byte order; writes microsecond, little-endian. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace clusterdns::testing {

absl::Status WritePcap(const std::string& path, const std::vector<std::vector<uint8_t>>& frames);
absl::StatusOr<std::vector<std::vector<uint8_t>>> ReadPcap(const std::string& path);

}  // namespace clusterdns::testing
