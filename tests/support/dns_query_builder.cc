#include "tests/support/dns_query_builder.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "records/dns_constants.h"

namespace clusterdns::testing {
namespace {

namespace rc = ::clusterdns::records;

void PutU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xff));
}

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v & 0xffff));
}

void WriteLabel(std::vector<uint8_t>& out, const std::string& label) {
  const size_t len = label.size() > 255 ? 255 : label.size();
  out.push_back(static_cast<uint8_t>(len));
  out.insert(out.end(), label.begin(), label.begin() + static_cast<std::ptrdiff_t>(len));
}

// A test that misuses a mutator has a bug; fail loudly rather than write out of bounds.
void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "dns_query_builder: %s\n", what);
    std::abort();
  }
}

}  // namespace

std::vector<uint8_t> EncodeName(std::string_view dotted) {
  std::vector<uint8_t> out;
  if (dotted == "." || dotted.empty()) {
    out.push_back(0);
    return out;
  }
  std::string label;
  bool pending = false;  // a label has been started since the last dot
  for (size_t i = 0; i < dotted.size(); ++i) {
    const char c = dotted[i];
    if (c == '\\' && i + 1 < dotted.size()) {
      const auto is_digit = [](char d) { return d >= '0' && d <= '9'; };
      if (i + 3 < dotted.size() && is_digit(dotted[i + 1]) && is_digit(dotted[i + 2]) &&
          is_digit(dotted[i + 3])) {
        const int v = (dotted[i + 1] - '0') * 100 + (dotted[i + 2] - '0') * 10 +
                      (dotted[i + 3] - '0');
        label.push_back(static_cast<char>(v & 0xff));
        i += 3;
      } else {
        label.push_back(dotted[i + 1]);
        i += 1;
      }
      pending = true;
      continue;
    }
    if (c == '.') {
      WriteLabel(out, label);
      label.clear();
      pending = false;
      continue;
    }
    label.push_back(c);
    pending = true;
  }
  if (pending) WriteLabel(out, label);
  out.push_back(0);
  return out;
}

std::vector<uint8_t> EncodeQuestion(std::string_view name, uint16_t qtype, uint16_t klass) {
  std::vector<uint8_t> out = EncodeName(name);
  PutU16(out, qtype);
  PutU16(out, klass);
  return out;
}

std::vector<uint8_t> EncodeOptRecord(const QueryOptions& options) {
  std::vector<uint8_t> out;
  out.push_back(0);  // root owner
  PutU16(out, rc::kTypeOpt);
  PutU16(out, options.edns_udp_size);
  const uint32_t ttl = (uint32_t{options.edns_version} << 16) |
                       (options.edns_do ? uint32_t{rc::kEdnsFlagDo} : 0u);
  PutU32(out, ttl);
  std::vector<uint8_t> rdata;
  for (const auto& [code, data] : options.edns_options) {
    PutU16(rdata, code);
    PutU16(rdata, static_cast<uint16_t>(data.size()));
    rdata.insert(rdata.end(), data.begin(), data.end());
  }
  PutU16(out, static_cast<uint16_t>(rdata.size()));
  out.insert(out.end(), rdata.begin(), rdata.end());
  return out;
}

std::vector<uint8_t> BuildQuery(std::string_view name, uint16_t qtype,
                                const QueryOptions& options) {
  std::vector<uint8_t> out;
  PutU16(out, options.id);
  uint16_t flags = static_cast<uint16_t>((options.opcode & 0x0f) << rc::kOpcodeShift);
  if (options.rd) flags |= rc::kFlagRd;
  PutU16(out, flags);
  PutU16(out, 1);                      // QDCOUNT
  PutU16(out, 0);                      // ANCOUNT
  PutU16(out, 0);                      // NSCOUNT
  PutU16(out, options.edns ? 1 : 0);  // ARCOUNT
  AppendBytes(out, EncodeQuestion(name, qtype, options.klass));
  if (options.edns) AppendBytes(out, EncodeOptRecord(options));
  return out;
}

void WriteU16(std::vector<uint8_t>& message, size_t offset, uint16_t value) {
  Require(offset + 2 <= message.size(), "WriteU16 past the end of the message");
  message[offset] = static_cast<uint8_t>(value >> 8);
  message[offset + 1] = static_cast<uint8_t>(value & 0xff);
}

void SetId(std::vector<uint8_t>& message, uint16_t id) { WriteU16(message, 0, id); }
void SetFlags(std::vector<uint8_t>& message, uint16_t flags) { WriteU16(message, 2, flags); }
void SetQdcount(std::vector<uint8_t>& message, uint16_t count) { WriteU16(message, 4, count); }
void SetAncount(std::vector<uint8_t>& message, uint16_t count) { WriteU16(message, 6, count); }
void SetNscount(std::vector<uint8_t>& message, uint16_t count) { WriteU16(message, 8, count); }
void SetArcount(std::vector<uint8_t>& message, uint16_t count) { WriteU16(message, 10, count); }

void AppendBytes(std::vector<uint8_t>& message, const std::vector<uint8_t>& bytes) {
  message.insert(message.end(), bytes.begin(), bytes.end());
}

}  // namespace clusterdns::testing
