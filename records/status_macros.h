// Status propagation macros. abseil 20220623 ships none, so clusterdns defines them once here.
// Cold paths only (startup, control plane): the data plane never builds a Status.
//
//   absl::StatusOr<Zone> LoadZone(...) {
//     CDNS_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     CDNS_RETURN_IF_ERROR(Validate(text));
//     ...
//   }
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CDNS_STATUS_CONCAT_INNER_(a, b) a##b
#define CDNS_STATUS_CONCAT_(a, b) CDNS_STATUS_CONCAT_INNER_(a, b)

#define CDNS_RETURN_IF_ERROR(expr)              \
  do {                                          \
    ::absl::Status cdns_status_ = (expr);       \
    if (!cdns_status_.ok()) return cdns_status_; \
  } while (0)

#define CDNS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).status();    \
  lhs = std::move(*tmp)

#define CDNS_ASSIGN_OR_RETURN(lhs, expr) \
  CDNS_ASSIGN_OR_RETURN_IMPL_(CDNS_STATUS_CONCAT_(cdns_statusor_, __LINE__), lhs, expr)
