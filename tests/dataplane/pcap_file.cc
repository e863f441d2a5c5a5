#include "tests/dataplane/pcap_file.h"

#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace clusterdns::testing {
namespace {

constexpr uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr uint32_t kMagicNano = 0xa1b23c4d;
constexpr uint32_t kLinkTypeEthernet = 1;

void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutLe16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

}  // namespace

absl::Status WritePcap(const std::string& path, const std::vector<std::vector<uint8_t>>& frames) {
  std::string out;
  PutLe32(out, kMagicMicro);
  PutLe16(out, 2);  // version 2.4
  PutLe16(out, 4);
  PutLe32(out, 0);  // thiszone
  PutLe32(out, 0);  // sigfigs
  PutLe32(out, 65535);
  PutLe32(out, kLinkTypeEthernet);
  uint32_t usec = 0;
  for (const auto& f : frames) {
    PutLe32(out, 1);       // seconds
    PutLe32(out, usec++);  // distinct, increasing timestamps
    PutLe32(out, static_cast<uint32_t>(f.size()));
    PutLe32(out, static_cast<uint32_t>(f.size()));
    out.append(f.begin(), f.end());
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<uint8_t>>> ReadPcap(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const std::vector<uint8_t> data((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
  if (data.size() < 24) return absl::InvalidArgumentError(absl::StrCat(path, ": no pcap header"));
  auto le32 = [&](size_t at) {
    return uint32_t{data[at]} | uint32_t{data[at + 1]} << 8 | uint32_t{data[at + 2]} << 16 |
           uint32_t{data[at + 3]} << 24;
  };
  auto be32 = [&](size_t at) {
    return uint32_t{data[at + 3]} | uint32_t{data[at + 2]} << 8 | uint32_t{data[at + 1]} << 16 |
           uint32_t{data[at]} << 24;
  };
  bool little;
  if (le32(0) == kMagicMicro || le32(0) == kMagicNano) {
    little = true;
  } else if (be32(0) == kMagicMicro || be32(0) == kMagicNano) {
    little = false;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a pcap file"));
  }
  auto u32 = [&](size_t at) { return little ? le32(at) : be32(at); };
  if (u32(20) != kLinkTypeEthernet) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": link type ", u32(20), " is not Ethernet"));
  }
  std::vector<std::vector<uint8_t>> frames;
  size_t at = 24;
  while (at < data.size()) {
    if (at + 16 > data.size())
      return absl::InvalidArgumentError(absl::StrCat(path, ": cut record"));
    const uint32_t caplen = u32(at + 8);
    if (caplen != u32(at + 12)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": record ", frames.size(), " truncated"));
    }
    at += 16;
    if (at + caplen > data.size())
      return absl::InvalidArgumentError(absl::StrCat(path, ": cut data"));
    frames.emplace_back(data.begin() + at, data.begin() + at + caplen);
    at += caplen;
  }
  return frames;
}

}  // namespace clusterdns::testing
