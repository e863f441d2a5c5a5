// Records as zone-file text, one record a line: "name. ttl IN TYPE rdata" (RFC 1035 5.1
// presentation form). What clusterdns-zone prints so people can see what the table holds.
#pragma once

#include <string>
#include <vector>

#include "records/record.h"

namespace clusterdns::records {

// One line without a newline; empty for records that are not RRs of their owner (glue copies,
// the internal marker of names that exist without data).
std::string ZoneLine(const Record& record);

// Every RR of `records` as sorted, de-duplicated lines.
std::vector<std::string> ZoneLines(const std::vector<Record>& records);

}  // namespace clusterdns::records
