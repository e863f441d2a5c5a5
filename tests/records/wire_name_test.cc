// Wire names: ReadName/SkipName on valid and hostile input, text conversion both ways, and
// NameCompressor output checked by the independent decoder of tests/support.
#include "records/name_compressor.h"
#include "records/wire_name.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "records/dns_constants.h"
#include "tests/support/dns_message.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using records::NameError;
using ::testing::HasSubstr;

std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// A 12-byte header followed by `body`: offsets in the tests are message offsets.
std::vector<uint8_t> Message(std::string_view body) {
  std::string out(records::kHeaderSize, '\0');
  out.append(body);
  return Bytes(out);
}

struct Read {
  NameError error;
  std::string name;  // the uncompressed wire name on success
  size_t next = 0;
};

// ReadName into a buffer of exactly 255 bytes (so ASan sees any overrun), cross-checked against
// SkipName: both must give the same error and, on success, the same next offset.
Read ReadAt(const std::vector<uint8_t>& msg, size_t offset) {
  std::vector<uint8_t> out(records::kMaxNameWireLength);
  size_t out_len = 0;
  size_t next = 0;
  Read r;
  r.error = records::ReadName(msg.data(), msg.size(), offset, out.data(), &out_len, &next);
  size_t skip_next = 0;
  const NameError skip = records::SkipName(msg.data(), msg.size(), offset, &skip_next);
  EXPECT_EQ(skip, r.error) << "offset " << offset;
  if (r.error == NameError::kOk) {
    r.name.assign(out.begin(), out.begin() + static_cast<long>(out_len));
    r.next = next;
    EXPECT_EQ(skip_next, next) << "offset " << offset;
  }
  return r;
}

// A wire label: its length byte, then `n` copies of `c`.
std::string Label(char c, size_t n) {
  return std::string(1, static_cast<char>(n)) + std::string(n, c);
}

// --- ReadName / SkipName -------------------------------------------------------------------

TEST(WireNameRead, UncompressedName) {
  const std::string wire("\x03www\x07" "Example\x03" "com\x00", 17);
  const std::vector<uint8_t> msg = Message(wire + "trailing");
  const Read r = ReadAt(msg, 12);
  ASSERT_EQ(r.error, NameError::kOk);
  EXPECT_EQ(r.name, wire);  // case kept
  EXPECT_EQ(r.next, 12 + wire.size());
}

TEST(WireNameRead, RootName) {
  const std::vector<uint8_t> msg = Message(std::string("\x00", 1));
  const Read r = ReadAt(msg, 12);
  ASSERT_EQ(r.error, NameError::kOk);
  EXPECT_EQ(r.name, std::string("\x00", 1));
  EXPECT_EQ(r.next, 13u);
}

TEST(WireNameRead, CompressedNames) {
  // 12: example.com.   25: www -> 12   31: a -> 25   35: -> 20 (com.)
  const std::string body("\x07" "example\x03" "com\x00"
                         "\x03www\xc0\x0c"
                         "\x01" "a\xc0\x19"
                         "\xc0\x14",
                         25);
  const std::vector<uint8_t> msg = Message(body);
  Read r = ReadAt(msg, 25);
  ASSERT_EQ(r.error, NameError::kOk);
  EXPECT_EQ(r.name, std::string("\x03www\x07" "example\x03" "com\x00", 17));
  EXPECT_EQ(r.next, 31u);  // after the pointer, not after the name it points to
  r = ReadAt(msg, 31);
  ASSERT_EQ(r.error, NameError::kOk);
  EXPECT_EQ(r.name, std::string("\x01" "a\x03www\x07" "example\x03" "com\x00", 19));
  EXPECT_EQ(r.next, 35u);
  r = ReadAt(msg, 35);
  ASSERT_EQ(r.error, NameError::kOk);
  EXPECT_EQ(r.name, std::string("\x03" "com\x00", 5));
  EXPECT_EQ(r.next, 37u);
}

TEST(WireNameRead, LongestNames) {
  // 255 bytes: three 63-byte labels, one of 61, the root.
  const std::string name255 = Label('a', 63) + Label('b', 63) + Label('c', 63) + Label('d', 61) +
                              std::string(1, '\0');
  ASSERT_EQ(name255.size(), 255u);
  Read r = ReadAt(Message(name255), 12);
  ASSERT_EQ(r.error, NameError::kOk);
  EXPECT_EQ(r.name, name255);
  const std::string name256 = Label('a', 63) + Label('b', 63) + Label('c', 63) + Label('d', 62) +
                              std::string(1, '\0');
  EXPECT_EQ(ReadAt(Message(name256), 12).error, NameError::kNameTooLong);
  // The same limit across a pointer: 63+1 bytes before a pointer to a 192-byte suffix is 256.
  const std::string suffix =
      Label('b', 63) + Label('c', 63) + Label('d', 62) + std::string(1, '\0');
  ASSERT_EQ(suffix.size(), 192u);
  std::string body = suffix + Label('a', 63) + "\xc0\x0c";
  EXPECT_EQ(ReadAt(Message(body), 12 + suffix.size()).error, NameError::kNameTooLong);
  body = suffix + Label('a', 62) + "\xc0\x0c";
  r = ReadAt(Message(body), 12 + suffix.size());
  ASSERT_EQ(r.error, NameError::kOk);
  EXPECT_EQ(r.name.size(), 255u);
}

TEST(WireNameRead, Truncated) {
  const std::vector<uint8_t> header_only(records::kHeaderSize, 0);
  EXPECT_EQ(ReadAt(header_only, 12).error, NameError::kTruncated);                  // nothing
  EXPECT_EQ(ReadAt(Message("\x05" "ab"), 12).error, NameError::kTruncated);         // mid-label
  EXPECT_EQ(ReadAt(Message("\x03" "abc"), 12).error, NameError::kTruncated);        // no root
  EXPECT_EQ(ReadAt(Message("\x01" "a\xc0"), 12).error, NameError::kTruncated);      // half pointer
  EXPECT_EQ(ReadAt(Message(std::string("\x00", 1)), 13).error, NameError::kTruncated);  // offset
  EXPECT_EQ(ReadAt(Message(std::string("\x00", 1)), 1000).error, NameError::kTruncated);
}

TEST(WireNameRead, LabelTooLong) {
  for (int len : {0x40, 0x41, 0x7f, 0x80, 0xbf}) {
    std::string body(1, static_cast<char>(len));
    body += std::string(static_cast<size_t>(len), 'x') + std::string(1, '\0');
    EXPECT_EQ(ReadAt(Message(body), 12).error, NameError::kLabelTooLong) << len;
  }
}

TEST(WireNameRead, BadPointers) {
  // Into the header.
  EXPECT_EQ(ReadAt(Message(std::string("\xc0\x00", 2)), 12).error, NameError::kBadPointer);
  EXPECT_EQ(ReadAt(Message("\xc0\x0b"), 12).error, NameError::kBadPointer);
  // To itself.
  EXPECT_EQ(ReadAt(Message("\xc0\x0c"), 12).error, NameError::kBadPointer);
  EXPECT_EQ(ReadAt(Message(std::string("\x01" "a\xc0\x0e", 4)), 12).error, NameError::kBadPointer);
  // Forward, to a valid name.
  EXPECT_EQ(ReadAt(Message(std::string("\xc0\x0e\x00", 3)), 12).error, NameError::kBadPointer);
  // Forward past the end of the message, using all 14 offset bits.
  EXPECT_EQ(ReadAt(Message("\xff\xff"), 12).error, NameError::kBadPointer);
  // A pointer to a pointer that points forward.
  EXPECT_EQ(ReadAt(Message(std::string("\xc0\x10\x00\x00\xc0\x0c", 6)), 16).error,
            NameError::kBadPointer);
}

TEST(WireNameRead, LoopsEndInAnError) {
  // 12: "a" then a pointer back to 12. Every hop is strictly backwards, so only the hop count or
  // the name length can stop it.
  const std::vector<uint8_t> msg = Message("\x01" "a\xc0\x0c");
  // From the label: 128 copies of "a" would be 256 bytes.
  EXPECT_EQ(ReadAt(msg, 12).error, NameError::kNameTooLong);
  // From the pointer: 127 hops give 254 bytes, the 128th hop is one too many.
  EXPECT_EQ(ReadAt(msg, 14).error, NameError::kTooManyPointers);
  // A two-pointer cycle through two labels.
  const std::vector<uint8_t> two = Message("\x01" "a\x01" "b\xc0\x0e\x01" "c\xc0\x0c");
  EXPECT_NE(ReadAt(two, 18).error, NameError::kOk);
  EXPECT_NE(ReadAt(two, 12).error, NameError::kOk);
}

TEST(WireNameRead, AnyOffsetOfAMessageIsSafe) {
  // Every offset of a real query with a compressed additional record: errors or names, both
  // functions agreeing (ReadAt checks).
  std::vector<uint8_t> msg = BuildQuery("Kube-DNS.kube-system.svc.cluster.local", records::kTypeA);
  const std::vector<uint8_t> tail = Bytes(std::string("\x03key\xc0\x15\x00\x01\x00\x01", 10));
  msg.insert(msg.end(), tail.begin(), tail.end());
  for (size_t offset = 0; offset <= msg.size(); ++offset) {
    const Read r = ReadAt(msg, offset);
    if (r.error != NameError::kOk) continue;
    EXPECT_LE(r.name.size(), 255u);
    EXPECT_EQ(r.name.back(), '\0');
    EXPECT_GT(r.next, offset);
  }
  const Read key = ReadAt(msg, msg.size() - 10);
  ASSERT_EQ(key.error, NameError::kOk);
  EXPECT_EQ(records::TextFromWire(key.name), "key.kube-system.svc.cluster.local.");
}

TEST(WireNameRead, ErrorTexts) {
  for (NameError e : {NameError::kOk, NameError::kTruncated, NameError::kLabelTooLong,
                      NameError::kNameTooLong, NameError::kBadPointer,
                      NameError::kTooManyPointers}) {
    EXPECT_STRNE(records::NameErrorText(e), "unknown");
  }
}

// --- Text conversion ------------------------------------------------------------------------

TEST(WireNameText, FoldedWireFromText) {
  auto w = records::FoldedWireFromText("Redis-Master.Default.SVC.cluster.local");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(*w, std::string("\x0credis-master\x07" "default\x03svc\x07" "cluster\x05local\x00",
                            40));
  auto dot = records::FoldedWireFromText("a.B.");
  ASSERT_TRUE(dot.ok());
  EXPECT_EQ(*dot, std::string("\x01" "a\x01" "b\x00", 5));
  for (const char* root : {"", "."}) {
    auto r = records::FoldedWireFromText(root);
    ASSERT_TRUE(r.ok()) << root;
    EXPECT_EQ(*r, std::string("\x00", 1));
  }
  const std::string name255 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                              std::string(63, 'c') + "." + std::string(61, 'd');
  auto longest = records::FoldedWireFromText(name255);
  ASSERT_TRUE(longest.ok()) << longest.status();
  EXPECT_EQ(longest->size(), 255u);
}

TEST(WireNameText, FoldedWireFromTextErrors) {
  struct Case {
    std::string text;
    std::string message;  // part of the error that names the problem
  };
  const std::string label64(64, 'x');
  const std::string name256 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                              std::string(63, 'c') + "." + std::string(62, 'd');
  for (const Case& c : {Case{"a..b", "empty label"}, Case{"a..b", "a..b"},
                        Case{".a", "empty label"}, Case{"..", "empty label"},
                        Case{"a.b..", "empty label"}, Case{label64 + ".local", label64},
                        Case{label64, "63"}, Case{name256, "255"}, Case{name256, name256}}) {
    auto w = records::FoldedWireFromText(c.text);
    ASSERT_FALSE(w.ok()) << c.text;
    EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(w.status().message()), HasSubstr(c.message)) << c.text;
  }
}

TEST(WireNameText, TextFromWire) {
  EXPECT_EQ(records::TextFromWire(std::string("\x00", 1)), ".");
  EXPECT_EQ(records::TextFromWire(std::string("\x03www\x07" "Example\x03" "com\x00", 17)),
            "www.Example.com.");
  // '.' and '\' inside a label, and every byte outside printable ASCII, are escaped.
  const std::string odd("\x03" "a.b\x02\\x\x04" "a b\x00\x04\x00\x7f\xff~\x00", 18);
  EXPECT_EQ(records::TextFromWire(odd), "a\\.b.\\\\x.a\\032b\\000.\\000\\127\\255~.");
}

TEST(WireNameText, TextFromWireAgreesWithTheIndependentDecoder) {
  // The decoder of tests/support writes names in the same RFC 1035 5.1 form.
  for (const std::string& wire :
       {std::string("\x03" "a.b\x02\\x\x04" "a b\x00\x00", 13),
        std::string("\x01\x80\x01\x20\x00", 5), std::string("\x05" "Hello\x05world\x00", 13)}) {
    std::vector<uint8_t> msg(records::kHeaderSize, 0);
    SetQdcount(msg, 1);
    msg.insert(msg.end(), wire.begin(), wire.end());
    AppendBytes(msg, {0, 1, 0, 1});
    auto m = DecodeMessage(msg);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(records::TextFromWire(wire), m->question[0].name);
  }
}

TEST(WireNameText, LabelHelpers) {
  const std::string wire("\x03www\x07" "example\x03" "com\x00", 17);
  const std::string zone("\x07" "example\x03" "com\x00", 13);
  EXPECT_EQ(records::StripLabels(wire, 1), zone);
  EXPECT_EQ(records::StripLabels(wire, 3), std::string("\x00", 1));
  EXPECT_EQ(records::StripLabels(wire, 9), std::string("\x00", 1));
  EXPECT_TRUE(records::IsSubdomain(wire, zone));
  EXPECT_TRUE(records::IsSubdomain(zone, zone));
  EXPECT_TRUE(records::IsSubdomain(wire, std::string("\x00", 1)));
  EXPECT_FALSE(records::IsSubdomain(zone, wire));
  // A suffix that is not on a label boundary: "xample.com" is not a zone of "example.com".
  EXPECT_FALSE(records::IsSubdomain(zone, std::string("\x06xample\x03" "com\x00", 12)));
  EXPECT_FALSE(records::IsSubdomain(std::string("\x01" "a\x08" "xexample\x03" "com\x00", 16),
                                    zone));
}

// --- NameCompressor ---------------------------------------------------------------------------

std::string Wire(std::string_view text) { return *records::FoldedWireFromText(text); }

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

// Appends a record owned by `owner`: an A record, or a CNAME to `target` when it is not empty.
void AppendRecord(records::NameCompressor& c, std::string_view owner, std::string_view target,
                  std::string* msg) {
  c.Write(Wire(owner), msg);
  PutU16(msg, target.empty() ? records::kTypeA : records::kTypeCname);
  PutU16(msg, records::kClassIn);
  msg->append(std::string("\x00\x00\x00\x1e", 4));
  if (target.empty()) {
    msg->append(std::string("\x00\x04\x0a\x00\x00\x01", 6));
    return;
  }
  const size_t rdlen_at = msg->size();
  PutU16(msg, 0);
  c.Write(Wire(target), msg);
  const size_t rdlen = msg->size() - rdlen_at - 2;
  (*msg)[rdlen_at] = static_cast<char>(rdlen >> 8);
  (*msg)[rdlen_at + 1] = static_cast<char>(rdlen & 0xff);
}

TEST(NameCompressor, OutputDecodesToTheSameNamesWithPointers) {
  struct Rec {
    const char* owner;
    const char* target;
  };
  const std::vector<Rec> records_in = {
      {"www.example.com", "web.example.com"},  // owner = the question; target shares example.com
      {"web.example.com", ""},                 // the target written literally above
      {"a.b.web.example.com", ""},             // two new labels in front of a known name
      {"b.web.example.com", ""},               // a suffix of the partly literal name above
      {"other.org", ""},                       // nothing in common
      {"x.other.org", ""},
      {"com", ""},
      {".", ""},
      {"www.example.com", ""},
  };
  std::string msg(records::kHeaderSize, '\0');
  msg[5] = 1;                                             // QDCOUNT
  msg[7] = static_cast<char>(records_in.size());          // ANCOUNT
  const std::string qname = Wire("www.example.com");
  msg += qname;
  PutU16(&msg, records::kTypeA);
  PutU16(&msg, records::kClassIn);
  records::NameCompressor c;
  c.Remember(qname, records::kHeaderSize);
  size_t uncompressed = msg.size();
  for (const Rec& r : records_in) {
    AppendRecord(c, r.owner, r.target, &msg);
    uncompressed += Wire(r.owner).size() + 10 + (r.target[0] ? Wire(r.target).size() : 4);
  }
  auto m = DecodeMessage(reinterpret_cast<const uint8_t*>(msg.data()), msg.size());
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->answer.size(), records_in.size());
  for (size_t i = 0; i < records_in.size(); ++i) {
    EXPECT_EQ(m->answer[i].name, records::TextFromWire(Wire(records_in[i].owner))) << i;
    if (records_in[i].target[0]) {
      EXPECT_EQ(m->answer[i].rdata_text, records::TextFromWire(Wire(records_in[i].target))) << i;
    }
  }
  EXPECT_EQ(m->answer[0].owner_pointer, 12);
  EXPECT_EQ(m->answer.back().owner_pointer, 12);
  EXPECT_FALSE(m->answer[4].owner_pointer.has_value());  // other.org: nothing to point at
  EXPECT_FALSE(m->answer[7].owner_pointer.has_value());  // the root is one zero byte
  EXPECT_TRUE(m->answer[5].owner_pointer.has_value());
  // One pointer per owner name but other.org and the root, and one in the CNAME target.
  EXPECT_EQ(m->compression_pointers, static_cast<int>(records_in.size()) - 2 + 1);
  EXPECT_LT(msg.size(), uncompressed);
  // Bytes each owner name took: a name seen before, even as the tail of a name written partly
  // literally (b.web.example.com), costs exactly a pointer.
  const auto owner_bytes = [&](size_t i) {
    return m->answer[i].rdata_offset - 10 - m->answer[i].offset;
  };
  EXPECT_EQ(owner_bytes(0), 2u);
  EXPECT_EQ(owner_bytes(1), 2u);
  EXPECT_EQ(owner_bytes(2), 4u + 2u);  // "a", "b", pointer
  EXPECT_EQ(owner_bytes(3), 2u);
  EXPECT_EQ(owner_bytes(4), Wire("other.org").size());
  EXPECT_EQ(owner_bytes(5), 2u + 2u);
  EXPECT_EQ(owner_bytes(6), 2u);
  EXPECT_EQ(owner_bytes(7), 1u);
  EXPECT_EQ(owner_bytes(8), 2u);
}

TEST(NameCompressor, PointsOnlyBelow0x4000) {
  // A name straddling offset 0x4000: its labels that start at or above 0x4000 are not targets.
  std::string msg(0x4000 - 10, '\0');
  const std::string name = Wire("abcdefgh.ijklmnop.com");  // labels at +0, +9, +18
  records::NameCompressor c;
  c.Write(name, &msg);
  ASSERT_EQ(msg.size(), 0x4000 - 10 + name.size());  // nothing to compress against yet
  const auto expect_pointer_to = [&](const std::string& wire, size_t target) {
    const size_t start = msg.size();
    c.Write(wire, &msg);
    ASSERT_EQ(msg.size(), start + 2) << records::TextFromWire(wire);
    const size_t got = ((static_cast<uint8_t>(msg[start]) & 0x3f) << 8) |
                       static_cast<uint8_t>(msg[start + 1]);
    EXPECT_EQ(static_cast<uint8_t>(msg[start]) & 0xc0, 0xc0);
    EXPECT_EQ(got, target);
  };
  expect_pointer_to(name, 0x4000 - 10);
  expect_pointer_to(Wire("ijklmnop.com"), 0x4000 - 1);
  // "com" starts at 0x4008: written again, literally.
  size_t start = msg.size();
  c.Write(Wire("com"), &msg);
  EXPECT_EQ(msg.substr(start), Wire("com"));
  start = msg.size();
  c.Write(Wire("xyz.com"), &msg);
  EXPECT_EQ(msg.substr(start), Wire("xyz.com"));
  // ReadName follows what was written.
  std::vector<uint8_t> bytes(msg.begin(), msg.end());
  const Read r = ReadAt(bytes, 0x4000 - 10 + name.size());
  ASSERT_EQ(r.error, NameError::kOk);
  EXPECT_EQ(r.name, name);
}

TEST(NameCompressor, LabelAt0x4000IsNotATarget) {
  std::string msg(0x4000 - 9, '\0');
  records::NameCompressor c;
  c.Write(Wire("abcdefgh.xyz.com"), &msg);  // "xyz" at exactly 0x4000
  const size_t start = msg.size();
  c.Write(Wire("xyz.com"), &msg);
  EXPECT_EQ(msg.substr(start), Wire("xyz.com"));
}

TEST(NameCompressor, WriteLiteralWritesInFullAndLaterNamesMayPointToIt) {
  std::string msg(records::kHeaderSize, '\0');
  records::NameCompressor c;
  c.Remember(Wire("web.example.com"), records::kHeaderSize);
  size_t start = msg.size();
  c.WriteLiteral(Wire("a.web.example.com"), &msg);  // Write would give "a" and a pointer
  EXPECT_EQ(msg.substr(start), Wire("a.web.example.com"));
  start = msg.size();
  c.Write(Wire("x.a.web.example.com"), &msg);
  EXPECT_EQ(msg.size(), start + 4);  // "x" and a pointer to the literal name
  // Frozen: still in full, and no longer a target.
  c.Freeze();
  c.WriteLiteral(Wire("b.web.example.com"), &msg);
  start = msg.size();
  c.Write(Wire("b.web.example.com"), &msg);
  EXPECT_EQ(msg.size(), start + 4);  // "b" and a pointer into the remembered question
}

}  // namespace
}  // namespace clusterdns::testing
