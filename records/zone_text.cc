// Record → presentation form.
#include "records/zone_text.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "records/byte_order.h"
#include "records/dns_constants.h"
#include "records/ip_address.h"
#include "records/wire_name.h"

namespace clusterdns::records {
namespace {

uint32_t Be32(const std::string& s, size_t pos) {
  return LoadBe32(reinterpret_cast<const uint8_t*>(s.data() + pos));
}
uint16_t Be16(const std::string& s, size_t pos) {
  return LoadBe16(reinterpret_cast<const uint8_t*>(s.data() + pos));
}

std::string Quoted(const std::string& rdata) {
  std::string out;
  size_t pos = 0;
  while (pos < rdata.size()) {
    size_t len = static_cast<uint8_t>(rdata[pos]);
    if (!out.empty()) out += ' ';
    out += '"';
    for (size_t i = pos + 1; i <= pos + len && i < rdata.size(); ++i) {
      char c = rdata[i];
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    pos += 1 + len;
  }
  return out;
}

}  // namespace

std::string ZoneLine(const Record& r) {
  if (r.glue_for != 0 || r.type == 0) return {};
  std::string type;
  std::string rdata;
  switch (r.type) {
    case kTypeA:
    case kTypeAaaa: {
      if (r.rdata_prefix.size() != 4 && r.rdata_prefix.size() != 16) return {};
      const auto* bytes = reinterpret_cast<const uint8_t*>(r.rdata_prefix.data());
      IpAddress ip = r.rdata_prefix.size() == 4 ? IpAddress::V4(bytes) : IpAddress::V6(bytes);
      type = r.type == kTypeA ? "A" : "AAAA";
      rdata = ip.ToString();
      break;
    }
    case kTypeSrv:
      if (r.rdata_prefix.size() != 6) return {};
      type = "SRV";
      rdata = absl::StrCat(Be16(r.rdata_prefix, 0), " ", Be16(r.rdata_prefix, 2), " ",
                           Be16(r.rdata_prefix, 4), " ", TextFromWire(r.name1));
      break;
    case kTypePtr:
      type = "PTR";
      rdata = TextFromWire(r.name1);
      break;
    case kTypeCname:
      type = "CNAME";
      rdata = TextFromWire(r.name1);
      break;
    case kTypeNs:
      type = "NS";
      rdata = TextFromWire(r.name1);
      break;
    case kTypeSoa:
      if (r.rdata_suffix.size() != 20) return {};
      type = "SOA";
      rdata = absl::StrCat(TextFromWire(r.name1), " ", TextFromWire(r.name2), " ",
                           Be32(r.rdata_suffix, 0), " ", Be32(r.rdata_suffix, 4), " ",
                           Be32(r.rdata_suffix, 8), " ", Be32(r.rdata_suffix, 12), " ",
                           Be32(r.rdata_suffix, 16));
      break;
    case kTypeTxt:
      type = "TXT";
      rdata = Quoted(r.rdata_prefix);
      break;
    default:
      type = absl::StrCat("TYPE", r.type);
      rdata = absl::StrCat("\\# ", r.rdata_prefix.size());
      break;
  }
  return absl::StrCat(TextFromWire(r.owner), " ", r.ttl, " IN ", type, " ", rdata);
}

std::vector<std::string> ZoneLines(const std::vector<Record>& records) {
  std::vector<std::string> lines;
  lines.reserve(records.size());
  for (const Record& r : records) {
    std::string line = ZoneLine(r);
    if (!line.empty()) lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  return lines;
}

}  // namespace clusterdns::records
