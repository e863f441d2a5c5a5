// The decoder reads the message once, front to back, remembering where each label of each name
// decoded so far began: that set is what makes "a pointer targets an earlier label start"
// checkable. Every read is bounds-checked against an explicit limit (the message end, or the
// rdata end for names inside rdata), because the input is often deliberately malformed and the
// tests run under ASan+UBSan.
#include "tests/support/dns_message.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "records/dns_constants.h"

namespace clusterdns::testing {
namespace {

namespace rc = ::clusterdns::records;

enum class Section { kAnswer, kAuthority, kAdditional };

const char* SectionName(Section s) {
  switch (s) {
    case Section::kAnswer:
      return "answer";
    case Section::kAuthority:
      return "authority";
    case Section::kAdditional:
      return "additional";
  }
  return "?";
}

// Presentation form of one label byte inside a name: '.' and '\' escaped, anything not
// printable as \DDD (RFC 1035 5.1).
void AppendNameByte(uint8_t c, std::string* out) {
  if (c == '.' || c == '\\') {
    out->push_back('\\');
    out->push_back(static_cast<char>(c));
  } else if (c < 0x21 || c > 0x7e) {
    absl::StrAppendFormat(out, "\\%03d", c);
  } else {
    out->push_back(static_cast<char>(c));
  }
}

// A character-string in quotes: '"' and '\' escaped, anything not printable as \DDD.
void AppendQuoted(const uint8_t* p, size_t n, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = p[i];
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c > 0x7e) {
      absl::StrAppendFormat(out, "\\%03d", c);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

// RFC 5952: lower-case hex, no leading zeros, the longest run (first on a tie) of two or more
// zero groups as "::", and ::ffff:0:0/96 (IPv4-mapped) with a dotted-quad tail.
std::string FormatIpv6(const uint8_t* a) {
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) {
    g[i] = static_cast<uint16_t>((a[2 * i] << 8) | a[2 * i + 1]);
  }
  const bool mapped = g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 &&
                      g[5] == 0xffff;
  if (mapped) {
    return absl::StrFormat("::ffff:%d.%d.%d.%d", a[12], a[13], a[14], a[15]);
  }
  int best_start = -1;
  int best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best_start = -1;
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out.push_back(':');
    absl::StrAppendFormat(&out, "%x", g[i]);
  }
  return out;
}

std::string Hex(const uint8_t* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) absl::StrAppendFormat(&out, "%02x", p[i]);
  return out;
}

struct NameResult {
  std::string text;
  size_t end = 0;  // first byte after the name as written in place
  std::optional<uint16_t> pointer;
};

class Decoder {
 public:
  Decoder(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  absl::StatusOr<DecodedMessage> Run();

 private:
  uint16_t U16(size_t off) const {
    return static_cast<uint16_t>((data_[off] << 8) | data_[off + 1]);
  }
  uint32_t U32(size_t off) const {
    return (uint32_t{data_[off]} << 24) | (uint32_t{data_[off + 1]} << 16) |
           (uint32_t{data_[off + 2]} << 8) | uint32_t{data_[off + 3]};
  }

  // Decodes the name written at `start`; the bytes written in place must lie below `limit`.
  // `what` names the name in error messages ("answer record 1 owner").
  absl::Status ReadName(size_t start, size_t limit, const std::string& what, NameResult* out);
  absl::Status ReadQuestion(int index, size_t* pos, DecodedQuestion* q);
  absl::Status ReadRecord(Section section, int index, size_t* pos, DecodedRecord* r);
  absl::Status DecodeRdata(const std::string& what, DecodedRecord* r);
  // A name inside rdata from `start`, not running past `rd_end`; `*end` is where it stops.
  absl::Status ReadRdataName(size_t start, size_t rd_end, const std::string& what,
                             std::string* text, size_t* end);
  // Character-strings exactly filling [start, rd_end): TXT and HINFO.
  absl::Status ReadStrings(size_t start, size_t rd_end, const std::string& what,
                           std::string* text, int* count) const;

  const uint8_t* data_;
  size_t size_;
  std::set<size_t> label_starts_;  // labels of names decoded so far (valid pointer targets)
  int pointers_ = 0;
  bool have_opt_ = false;
};

absl::Status Decoder::ReadName(size_t start, size_t limit, const std::string& what,
                               NameResult* out) {
  size_t p = start;
  size_t cur_limit = limit;
  bool jumped = false;
  int hops = 0;
  size_t wire_len = 1;  // the root label
  std::vector<size_t> visited;
  std::vector<size_t> new_starts;
  std::string text;
  const char* limit_name = limit == size_ ? "message" : "rdata";
  while (true) {
    if (p >= cur_limit) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: name runs past the end of the %s at offset %d", what,
          jumped ? "message" : limit_name, p));
    }
    const uint8_t len = data_[p];
    if ((len & 0xc0) == 0xc0) {
      if (p + 1 >= cur_limit) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: compression pointer at offset %d is cut off by the end of the %s", what, p,
            jumped ? "message" : limit_name));
      }
      const size_t target = (size_t{len & 0x3fu} << 8) | data_[p + 1];
      if (!jumped) {
        out->end = p + 2;
        out->pointer = static_cast<uint16_t>(target);
        ++pointers_;
      }
      if (target >= size_) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: compression pointer at offset %d points to %d, past the end of the message "
            "(size %d)",
            what, p, target, size_));
      }
      if (std::find(visited.begin(), visited.end(), target) != visited.end() || target == p) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: compression pointer loop: pointer at offset %d points to %d, already visited "
            "while decoding this name",
            what, p, target));
      }
      if (target > p) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: forward compression pointer at offset %d points to %d", what, p, target));
      }
      if (label_starts_.count(target) == 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: compression pointer at offset %d points to %d, which is not the start of a "
            "label of an earlier name",
            what, p, target));
      }
      if (++hops > kMaxCompressionHops) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: more than %d compression hops at offset %d", what, kMaxCompressionHops, p));
      }
      visited.push_back(p);
      jumped = true;
      p = target;
      cur_limit = size_;
      continue;
    }
    if ((len & 0xc0) != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: label length byte 0x%02x at offset %d: length %d exceeds %d (reserved label "
          "type)",
          what, len, p, len, rc::kMaxLabelLength));
    }
    visited.push_back(p);
    if (len == 0) {
      if (!jumped) out->end = p + 1;
      break;
    }
    if (p + 1 + len > cur_limit) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: label of length %d at offset %d runs past the end of the %s", what, len, p,
          jumped ? "message" : limit_name));
    }
    wire_len += 1 + size_t{len};
    if (wire_len > rc::kMaxNameWireLength) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: name longer than %d bytes in wire form (label at offset %d)", what,
          rc::kMaxNameWireLength, p));
    }
    if (!jumped) new_starts.push_back(p);
    for (size_t i = 0; i < len; ++i) AppendNameByte(data_[p + 1 + i], &text);
    text.push_back('.');
    p += 1 + size_t{len};
  }
  out->text = text.empty() ? "." : std::move(text);
  label_starts_.insert(new_starts.begin(), new_starts.end());
  return absl::OkStatus();
}


absl::Status Decoder::ReadRdataName(size_t start, size_t rd_end, const std::string& what,
                                    std::string* text, size_t* end) {
  NameResult n;
  if (absl::Status s = ReadName(start, rd_end, what, &n); !s.ok()) return s;
  *text = std::move(n.text);
  *end = n.end;
  return absl::OkStatus();
}

absl::Status Decoder::ReadStrings(size_t start, size_t rd_end, const std::string& what,
                                  std::string* text, int* count) const {
  size_t p = start;
  *count = 0;
  while (p < rd_end) {
    const size_t len = data_[p];
    if (p + 1 + len > rd_end) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: character-string of length %d at offset %d runs past the rdata end %d "
          "(rdlength mismatch)",
          what, len, p, rd_end));
    }
    if (*count > 0) text->push_back(' ');
    AppendQuoted(data_ + p + 1, len, text);
    ++*count;
    p += 1 + len;
  }
  return absl::OkStatus();
}

absl::Status Decoder::DecodeRdata(const std::string& what, DecodedRecord* r) {
  const size_t rd_start = r->rdata_offset;
  const size_t rdlen = r->rdata_raw.size();
  const size_t rd_end = rd_start + rdlen;
  const uint8_t* rd = data_ + rd_start;
  auto length_error = [&](const char* type, const char* expected) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s rdlength %d at offset %d, expected %s (rdlength mismatch)",
                        what, type, rdlen, rd_start - 2, expected));
  };
  auto name_end_error = [&](const char* type, size_t end, size_t expected_end) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s rdata structure ends at offset %d but rdlength %d ends it at %d (rdlength "
        "mismatch)",
        what, type, end, rdlen, expected_end));
  };
  switch (r->type) {
    case rc::kTypeA:
      if (rdlen != 4) return length_error("A", "4");
      r->rdata_text = absl::StrFormat("%d.%d.%d.%d", rd[0], rd[1], rd[2], rd[3]);
      return absl::OkStatus();
    case rc::kTypeAaaa:
      if (rdlen != 16) return length_error("AAAA", "16");
      r->rdata_text = FormatIpv6(rd);
      return absl::OkStatus();
    case rc::kTypeNs:
    case rc::kTypeCname:
    case rc::kTypePtr: {
      const std::string type = TypeName(r->type);
      size_t end = 0;
      if (absl::Status s = ReadRdataName(rd_start, rd_end, what + " " + type + " target",
                                         &r->rdata_text, &end);
          !s.ok()) {
        return s;
      }
      if (end != rd_end) return name_end_error(type.c_str(), end, rd_end);
      return absl::OkStatus();
    }
    case rc::kTypeSrv: {
      if (rdlen < 7) return length_error("SRV", "6 + a name");
      std::string target;
      size_t end = 0;
      if (absl::Status s = ReadRdataName(rd_start + 6, rd_end, what + " SRV target", &target,
                                         &end);
          !s.ok()) {
        return s;
      }
      if (end != rd_end) return name_end_error("SRV", end, rd_end);
      r->rdata_text = absl::StrFormat("%d %d %d %s", U16(rd_start), U16(rd_start + 2),
                                      U16(rd_start + 4), target);
      return absl::OkStatus();
    }
    case rc::kTypeSoa: {
      std::string mname, rname;
      size_t end = 0;
      if (absl::Status s = ReadRdataName(rd_start, rd_end, what + " SOA mname", &mname, &end);
          !s.ok()) {
        return s;
      }
      if (absl::Status s = ReadRdataName(end, rd_end, what + " SOA rname", &rname, &end);
          !s.ok()) {
        return s;
      }
      if (end + 20 != rd_end) return name_end_error("SOA", end + 20, rd_end);
      r->rdata_text = absl::StrFormat("%s %s %d %d %d %d %d", mname, rname, U32(end),
                                      U32(end + 4), U32(end + 8), U32(end + 12), U32(end + 16));
      return absl::OkStatus();
    }
    case rc::kTypeTxt:
    case rc::kTypeHinfo: {
      const bool txt = r->type == rc::kTypeTxt;
      if (txt && rdlen == 0) return length_error("TXT", "at least one character-string");
      int count = 0;
      if (absl::Status s = ReadStrings(rd_start, rd_end, what, &r->rdata_text, &count);
          !s.ok()) {
        return s;
      }
      if (!txt && count != 2) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: HINFO rdata at offset %d holds %d character-strings, expected 2", what,
            rd_start, count));
      }
      return absl::OkStatus();
    }
    case rc::kTypeOpt: {
      size_t p = rd_start;
      int options = 0;
      while (p < rd_end) {
        if (p + 4 > rd_end) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "%s: OPT option header at offset %d runs past the rdata end %d", what, p,
              rd_end));
        }
        const size_t olen = U16(p + 2);
        if (p + 4 + olen > rd_end) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "%s: OPT option %d at offset %d with length %d runs past the rdata end %d", what,
              U16(p), p, olen, rd_end));
        }
        ++options;
        p += 4 + olen;
      }
      r->rdata_text = absl::StrFormat("udp=%d do=%d version=%d extrcode=%d options=%d",
                                      r->klass, (r->ttl & rc::kEdnsFlagDo) != 0 ? 1 : 0,
                                      (r->ttl >> 16) & 0xff, r->ttl >> 24, options);
      return absl::OkStatus();
    }
    default:
      r->rdata_text = absl::StrCat("\\# ", rdlen);
      if (rdlen > 0) absl::StrAppend(&r->rdata_text, " ", Hex(rd, rdlen));
      return absl::OkStatus();
  }
}

absl::Status Decoder::ReadQuestion(int index, size_t* pos, DecodedQuestion* q) {
  const size_t start = *pos;
  const std::string what = absl::StrCat("question ", index);
  NameResult n;
  if (absl::Status s = ReadName(start, size_, what, &n); !s.ok()) return s;
  if (n.end + 4 > size_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: type and class at offset %d run past the end of the message (size %d)", what,
        n.end, size_));
  }
  q->name = std::move(n.text);
  q->type = U16(n.end);
  q->klass = U16(n.end + 2);
  q->raw.assign(data_ + start, data_ + n.end + 4);
  q->offset = start;
  *pos = n.end + 4;
  return absl::OkStatus();
}

absl::Status Decoder::ReadRecord(Section section, int index, size_t* pos, DecodedRecord* r) {
  const size_t start = *pos;
  const std::string what = absl::StrCat(SectionName(section), " record ", index);
  NameResult n;
  if (absl::Status s = ReadName(start, size_, what + " owner", &n); !s.ok()) return s;
  if (n.end + 10 > size_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: type, class, TTL and rdlength at offset %d run past the end of the message "
        "(size %d)",
        what, n.end, size_));
  }
  r->name = std::move(n.text);
  r->owner_pointer = n.pointer;
  r->offset = start;
  r->type = U16(n.end);
  r->klass = U16(n.end + 2);
  r->ttl = U32(n.end + 4);
  const size_t rdlen = U16(n.end + 8);
  const size_t rd_start = n.end + 10;
  if (rd_start + rdlen > size_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: rdlength %d at offset %d runs past the end of the message (size %d)", what, rdlen,
        n.end + 8, size_));
  }
  r->rdata_offset = rd_start;
  r->rdata_raw.assign(data_ + rd_start, data_ + rd_start + rdlen);
  if (r->type == rc::kTypeOpt) {
    if (section != Section::kAdditional) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: OPT record in the %s section at offset %d (only allowed in additional)", what,
          SectionName(section), start));
    }
    if (have_opt_) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: second OPT record at offset %d (at most one allowed)", what, start));
    }
    if (r->name != ".") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: OPT record at offset %d has owner %s, not the root", what, start, r->name));
    }
    have_opt_ = true;
  }
  if (absl::Status s = DecodeRdata(what, r); !s.ok()) return s;
  *pos = rd_start + rdlen;
  return absl::OkStatus();
}

absl::StatusOr<DecodedMessage> Decoder::Run() {
  if (data_ == nullptr || size_ < rc::kHeaderSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "message of %d bytes is shorter than the %d-byte header", data_ == nullptr ? 0 : size_,
        rc::kHeaderSize));
  }
  if (size_ > rc::kMaxMessageSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "message of %d bytes is longer than %d", size_, rc::kMaxMessageSize));
  }
  DecodedMessage m;
  m.size = size_;
  m.id = U16(0);
  m.flags = U16(2);
  m.qr = (m.flags & rc::kFlagQr) != 0;
  m.aa = (m.flags & rc::kFlagAa) != 0;
  m.tc = (m.flags & rc::kFlagTc) != 0;
  m.rd = (m.flags & rc::kFlagRd) != 0;
  m.ra = (m.flags & rc::kFlagRa) != 0;
  m.ad = (m.flags & rc::kFlagAd) != 0;
  m.cd = (m.flags & rc::kFlagCd) != 0;
  m.opcode = static_cast<uint8_t>((m.flags & rc::kOpcodeMask) >> rc::kOpcodeShift);
  m.rcode = static_cast<uint8_t>(m.flags & rc::kRcodeMask);
  m.qdcount = U16(4);
  m.ancount = U16(6);
  m.nscount = U16(8);
  m.arcount = U16(10);

  size_t pos = rc::kHeaderSize;
  auto count_error = [&](const char* field, int count, int present) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "count mismatch: %s is %d but the message ends after %d at offset %d", field, count,
        present, pos));
  };
  for (int i = 0; i < m.qdcount; ++i) {
    if (pos >= size_) return count_error("QDCOUNT", m.qdcount, i);
    DecodedQuestion q;
    if (absl::Status s = ReadQuestion(i, &pos, &q); !s.ok()) return s;
    m.question.push_back(std::move(q));
  }
  const std::pair<Section, std::vector<DecodedRecord>*> sections[] = {
      {Section::kAnswer, &m.answer},
      {Section::kAuthority, &m.authority},
      {Section::kAdditional, &m.additional}};
  const uint16_t counts[] = {m.ancount, m.nscount, m.arcount};
  const char* count_names[] = {"ANCOUNT", "NSCOUNT", "ARCOUNT"};
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < counts[s]; ++i) {
      if (pos >= size_) return count_error(count_names[s], counts[s], i);
      DecodedRecord r;
      if (absl::Status st = ReadRecord(sections[s].first, i, &pos, &r); !st.ok()) return st;
      if (r.type == rc::kTypeOpt) m.opt = r;
      sections[s].second->push_back(std::move(r));
    }
  }
  if (pos != size_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%d trailing bytes after the last record at offset %d (qd=%d an=%d ns=%d ar=%d: a "
        "count too small?)",
        size_ - pos, pos, m.qdcount, m.ancount, m.nscount, m.arcount));
  }
  m.compression_pointers = pointers_;
  return m;
}

}  // namespace

absl::StatusOr<DecodedMessage> DecodeMessage(const uint8_t* data, size_t size) {
  return Decoder(data, size).Run();
}

absl::StatusOr<DecodedMessage> DecodeMessage(const std::vector<uint8_t>& bytes) {
  return DecodeMessage(bytes.data(), bytes.size());
}

uint16_t ExtendedRcode(const DecodedMessage& m) {
  uint16_t rcode = m.rcode;
  if (m.opt.has_value()) rcode = static_cast<uint16_t>(rcode | ((m.opt->ttl >> 24) << 4));
  return rcode;
}

std::string TypeName(uint16_t type) {
  switch (type) {
    case rc::kTypeA:
      return "A";
    case rc::kTypeNs:
      return "NS";
    case rc::kTypeCname:
      return "CNAME";
    case rc::kTypeSoa:
      return "SOA";
    case rc::kTypePtr:
      return "PTR";
    case rc::kTypeHinfo:
      return "HINFO";
    case rc::kTypeTxt:
      return "TXT";
    case rc::kTypeAaaa:
      return "AAAA";
    case rc::kTypeSrv:
      return "SRV";
    case rc::kTypeOpt:
      return "OPT";
    case rc::kTypeIxfr:
      return "IXFR";
    case rc::kTypeAxfr:
      return "AXFR";
    case rc::kTypeAny:
      return "ANY";
    default:
      return absl::StrCat("TYPE", type);
  }
}

std::string RcodeName(uint16_t rcode) {
  switch (rcode) {
    case rc::kRcodeNoError:
      return "NOERROR";
    case rc::kRcodeFormErr:
      return "FORMERR";
    case rc::kRcodeServFail:
      return "SERVFAIL";
    case rc::kRcodeNxDomain:
      return "NXDOMAIN";
    case rc::kRcodeNotImp:
      return "NOTIMP";
    case rc::kRcodeRefused:
      return "REFUSED";
    case rc::kRcodeBadVers:
      return "BADVERS";
    default:
      return absl::StrCat("RCODE", rcode);
  }
}

std::string RecordToText(const DecodedRecord& r) {
  if (r.type == rc::kTypeOpt) return absl::StrCat(r.name, " OPT ", r.rdata_text);
  const std::string klass = r.klass == rc::kClassIn ? "IN" : absl::StrCat("CLASS", r.klass);
  return absl::StrCat(r.name, " ", r.ttl, " ", klass, " ", TypeName(r.type), " ", r.rdata_text);
}

std::string ToText(const DecodedMessage& m) {
  std::vector<std::string> flags;
  if (m.qr) flags.push_back("qr");
  if (m.aa) flags.push_back("aa");
  if (m.tc) flags.push_back("tc");
  if (m.rd) flags.push_back("rd");
  if (m.ra) flags.push_back("ra");
  if (m.ad) flags.push_back("ad");
  if (m.cd) flags.push_back("cd");
  std::string out = absl::StrFormat(
      ";; id=%d opcode=%d rcode=%s flags: %s; qd=%d an=%d ns=%d ar=%d\n", m.id, m.opcode,
      RcodeName(ExtendedRcode(m)), absl::StrJoin(flags, " "), m.qdcount, m.ancount, m.nscount,
      m.arcount);
  if (!m.question.empty()) {
    out += ";; QUESTION\n";
    for (const DecodedQuestion& q : m.question) {
      const std::string klass = q.klass == rc::kClassIn ? "IN" : absl::StrCat("CLASS", q.klass);
      absl::StrAppend(&out, "; ", q.name, " ", klass, " ", TypeName(q.type), "\n");
    }
  }
  const std::pair<const char*, const std::vector<DecodedRecord>*> sections[] = {
      {";; ANSWER\n", &m.answer},
      {";; AUTHORITY\n", &m.authority},
      {";; ADDITIONAL\n", &m.additional}};
  for (const auto& [header, records] : sections) {
    if (records->empty()) continue;
    out += header;
    for (const DecodedRecord& r : *records) absl::StrAppend(&out, RecordToText(r), "\n");
  }
  return out;
}

}  // namespace clusterdns::testing
