// Test helper: asks an AnswerTable a query through respond() and decodes the response with the
// independent decoder of tests/support, failing the test if the response is not well formed.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "records/respond.h"
#include "tests/support/dns_message.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {

struct Asked {
  records::RespondResult result;
  std::vector<uint8_t> bytes;  // the response
  DecodedMessage message;
};

inline Asked AskBytes(const records::AnswerTable& table, std::vector<uint8_t> query,
                      const records::RespondOptions& options = {}) {
  Asked out;
  const size_t room = options.transport == records::Transport::kTcp ? records::kTcpResponseRoom
                                                                     : records::kUdpResponseRoom;
  std::vector<uint8_t> buf = query;
  buf.resize(std::max(room, query.size()));
  out.result = records::Respond(table, buf.data(), query.size(), buf.size(), options);
  if (out.result.verdict != records::Verdict::kReply) {
    // kDrop and kForward must leave the query untouched.
    EXPECT_TRUE(std::equal(query.begin(), query.end(), buf.begin()));
    return out;
  }
  out.bytes.assign(buf.begin(), buf.begin() + out.result.size);
  auto decoded = DecodeMessage(out.bytes);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  if (decoded.ok()) out.message = *decoded;
  return out;
}

inline Asked Ask(const records::AnswerTable& table, std::string_view name, uint16_t qtype,
                 const QueryOptions& query_options = {}, const records::RespondOptions& options = {}) {
  return AskBytes(table, BuildQuery(name, qtype, query_options), options);
}

inline std::vector<std::string> AnswerTexts(const DecodedMessage& m) {
  std::vector<std::string> out;
  for (const auto& r : m.answer) out.push_back(RecordToText(r));
  return out;
}
inline std::vector<std::string> SectionTexts(const std::vector<DecodedRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(RecordToText(r));
  return out;
}

// Every field of two results, one EXPECT each (the differential tests: burst against single,
// guessed name against walked).
inline void ExpectSameResult(const records::RespondResult& got,
                             const records::RespondResult& want) {
  EXPECT_EQ(got.verdict, want.verdict);
  EXPECT_EQ(got.drop, want.drop);
  EXPECT_EQ(got.rcode, want.rcode);
  EXPECT_EQ(got.qtype, want.qtype);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.truncated, want.truncated);
  EXPECT_EQ(got.cached, want.cached);
}

}  // namespace clusterdns::testing
