// Decoding of Service and EndpointSlice JSON (contract in objects_json.h).
//
// One pass over each object with simdjson On-Demand: fields are dispatched by key as they come,
// in whatever order the writer chose, and every field we do not need (managedFields, status,
// annotations, ...) is skipped without being parsed. Order does vary in practice: kubectl sorts
// keys, so an EndpointSlice's "kind" comes after its "endpoints", and a List's "kind" after its
// "items". Where a field's meaning depends on one not seen yet, it is decoded for every reading
// and settled at the end of the object (ItemDecoder), or, for the rare typed list whose "kind"
// follows its "items", the document is rewound and decoded again (ListDecoder).
//
// Errors come in two sorts and are kept apart all the way: a value of the wrong type or range
// makes the object malformed (the iterator is still sound, the parent goes on to the next item);
// any other simdjson error means the document itself is broken, and decoding stops.
#include "controlplane/objects_json.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "records/ip_address.h"

namespace clusterdns::controlplane {
namespace {

namespace od = simdjson::ondemand;
using records::AddressType;
using records::IpAddress;
using records::Protocol;
using records::ServiceType;
using simdjson::error_code;

// How decoding a part of an object ended.
enum class Result : uint8_t {
  kOk,
  kMalformed,  // a value is wrong; the problem is recorded, the JSON iterator is still sound
  kBadJson,    // the JSON is broken; stop
};

// Debian's abseil 20220623 has its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0),
// which std::string_view does not convert to: this bridges them for StrCat and friends.
absl::string_view Sv(std::string_view text) { return {text.data(), text.size()}; }

enum class Kind : uint8_t { kUnknown, kService, kEndpointSlice, kOther };

Kind KindOf(std::string_view kind) {
  if (kind == "Service") return Kind::kService;
  if (kind == "EndpointSlice") return Kind::kEndpointSlice;
  if (kind.empty()) return Kind::kUnknown;
  return Kind::kOther;
}

bool IsListKind(std::string_view kind) { return kind.ends_with("List"); }

// The kind of the items of a list: "ServiceList" → Service; "List" → each item says.
Kind ItemKindOfList(std::string_view list_kind) {
  list_kind.remove_suffix(4);  // "List"
  return KindOf(list_kind);
}

// A value quoted for a message: escaped and cut short, since it comes from the network.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxQuoted = 64;  // longer than any IP address; keeps log lines bounded
  std::string out = "\"";
  absl::StrAppend(&out, absl::CHexEscape(Sv(text.substr(0, kMaxQuoted))));
  if (text.size() > kMaxQuoted) out += "...";
  out += '"';
  return out;
}

// Where a field is, for messages: a chain of nodes on the stack, rendered only when something is
// wrong, so that the common path builds no strings.
class Path {
 public:
  Path(const Path* parent, std::string_view name) : parent_(parent), name_(name) {}
  Path(const Path* parent, size_t index) : parent_(parent), index_(index) {}

  std::string Render() const {
    std::string out = parent_ != nullptr ? parent_->Render() : std::string();
    if (name_.empty()) {
      absl::StrAppend(&out, "[", index_, "]");
    } else {
      absl::StrAppend(&out, out.empty() ? "" : ".", Sv(name_));
    }
    return out;
  }

 private:
  const Path* parent_;
  std::string_view name_;  // empty for an array element
  size_t index_ = 0;
};

// Decodes one object in a single pass. Its kind is the object's "kind" if it has one, else the
// hint (from the list kind, or the caller). A kind-specific field met while the kind is still
// unknown is decoded for each kind it can belong to; problems are recorded per kind, and the kind
// picks which apply once the object ends. String views (kind_name_, ns_, ...) point into the
// parser's string buffer, valid until the document is rewound or the parser reused.
class ItemDecoder {
 public:
  explicit ItemDecoder(Kind hint) : hint_(hint) {}

  // kBadJson: json_error() says why. Otherwise kind() tells what it was, and for a Service or an
  // EndpointSlice, problem() what is wrong with it (empty: service() / slice() are complete).
  Result Decode(od::object& object);

  Kind kind() const { return kind_ != Kind::kUnknown ? kind_ : hint_; }
  error_code json_error() const { return json_error_; }
  const std::string& problem() const {
    if (!problems_[kCommon].empty()) return problems_[kCommon];
    return problems_[kind() == Kind::kService ? kServiceScope : kSliceScope];
  }
  // "Service default/foo"; "Service default/<no name>" when the name is missing.
  std::string Describe() const {
    std::string_view kind_name = kind_name_;
    if (kind_name.empty()) kind_name = kind() == Kind::kService ? "Service" : "EndpointSlice";
    return absl::StrCat(Sv(kind_name), " ", ns_.empty() ? "default" : Sv(ns_), "/",
                        name_.empty() ? "<no name>" : Sv(name_));
  }
  std::string_view kind_name() const { return kind_name_; }
  bool has_name() const { return !name_.empty(); }
  records::Service& service() { return service_; }
  records::EndpointSlice& slice() { return slice_; }

 private:
  // Which kind a recorded problem concerns.
  enum Scope : uint8_t { kCommon, kServiceScope, kSliceScope, kScopes };

  Result BadJson(error_code error) {
    json_error_ = error;
    return Result::kBadJson;
  }
  Result Malformed(const Path& path, std::string_view what) {
    std::string& problem = problems_[scope_];
    if (problem.empty()) problem = absl::StrCat(path.Render(), ": ", Sv(what));
    return Result::kMalformed;
  }

  // Walks. fn returns a Result; only kBadJson stops the walk. A malformed value is recorded by fn
  // and the walk goes on, so that later fields (metadata.name, say) still complete the message.
  // A null object or array is walked as empty.
  template <typename Fn>  // fn(od::raw_json_string key, od::value& value)
  Result ForEachField(od::object& object, Fn&& fn);
  template <typename Fn>  // as ForEachField, for a value that should be an object
  Result ForEachFieldOf(od::value& value, const Path& path, Fn&& fn);
  template <typename Fn>  // fn(size_t index, od::value& element)
  Result ForEachElementOf(od::value& value, const Path& path, Fn&& fn);
  template <typename Fn>  // fn(od::object& element, const Path& element_path); nulls skipped
  Result ForEachObjectOf(od::value& value, const Path& path, Fn&& fn);

  // Scalar readers. JSON null counts as absent; a value of another type is malformed.
  Result NullOrWrongType(od::value& value, const Path& path, std::string_view expected);
  Result ReadString(od::value& value, const Path& path, std::string_view& out);  // null → ""
  Result ReadBool(od::value& value, const Path& path, std::optional<bool>& out);
  Result ReadPort(od::value& value, const Path& path, std::optional<uint16_t>& out);
  Result ReadProtocol(od::value& value, const Path& path, Protocol& out);

  Result DecodeMetadata(od::value& value);
  Result DecodeLabels(od::value& value, const Path& path);
  Result DecodeServiceSpec(od::value& value);
  Result DecodeServiceType(od::value& value, const Path& path);
  Result DecodeClusterIps(od::value& value, const Path& path, bool& seen);
  Result DecodeServicePort(od::object& object, const Path& path);
  void FinishService();
  Result DecodeAddressType(od::value& value);
  Result DecodeEndpoint(od::object& object, const Path& path, records::Endpoint& endpoint);
  Result DecodeAddresses(od::value& value, const Path& path, records::Endpoint& endpoint);
  Result DecodeSlicePort(od::object& object, const Path& path);
  void FinishSlice();

  const Kind hint_;
  Kind kind_ = Kind::kUnknown;
  std::string_view kind_name_;
  std::string_view ns_;
  std::string_view name_;
  std::string_view resource_version_;
  std::string_view service_name_;
  Scope scope_ = kCommon;
  std::string problems_[kScopes];
  error_code json_error_ = simdjson::SUCCESS;

  records::Service service_;
  records::EndpointSlice slice_;
  bool address_type_seen_ = false;
  // Endpoints came before addressType: families are checked, and a parse failure (kept in
  // deferred_address_problem_, as FQDN slices hold names) reported, when the slice ends.
  bool endpoints_before_type_ = false;
  std::string deferred_address_problem_;
};

// Whether a value that a getter refused (INCORRECT_TYPE) starts as any JSON value does. On-Demand
// does not validate what it is not asked to parse: a stray '}' or ',' in an array shows up here
// as a value of the wrong type, and must count as broken JSON, not as a malformed object.
error_code StartsLikeAValue(od::value& value) {
  od::json_type type{};
  return value.type().get(type);
}

// Called after a getter answered INCORRECT_TYPE, which leaves the value unconsumed.
Result ItemDecoder::NullOrWrongType(od::value& value, const Path& path,
                                    std::string_view expected) {
  if (error_code error = StartsLikeAValue(value)) return BadJson(error);
  bool is_null = false;
  if (error_code error = value.is_null().get(is_null)) return BadJson(error);
  if (is_null) return Result::kOk;
  return Malformed(path, absl::StrCat("not ", Sv(expected)));
}

template <typename Fn>
Result ItemDecoder::ForEachField(od::object& object, Fn&& fn) {
  for (auto field : object) {
    od::raw_json_string key;
    if (error_code error = field.key().get(key)) return BadJson(error);
    od::value field_value;
    if (error_code error = field.value().get(field_value)) return BadJson(error);
    if (fn(key, field_value) == Result::kBadJson) return Result::kBadJson;
  }
  return Result::kOk;
}

template <typename Fn>
Result ItemDecoder::ForEachFieldOf(od::value& value, const Path& path, Fn&& fn) {
  od::object object;
  error_code error = value.get_object().get(object);
  if (error == simdjson::INCORRECT_TYPE) return NullOrWrongType(value, path, "an object");
  if (error) return BadJson(error);
  return ForEachField(object, std::forward<Fn>(fn));
}

template <typename Fn>
Result ItemDecoder::ForEachElementOf(od::value& value, const Path& path, Fn&& fn) {
  od::array array;
  error_code error = value.get_array().get(array);
  if (error == simdjson::INCORRECT_TYPE) return NullOrWrongType(value, path, "an array");
  if (error) return BadJson(error);
  size_t index = 0;
  for (auto element : array) {
    od::value element_value;
    if ((error = std::move(element).get(element_value))) return BadJson(error);
    if (fn(index++, element_value) == Result::kBadJson) return Result::kBadJson;
  }
  return Result::kOk;
}

template <typename Fn>
Result ItemDecoder::ForEachObjectOf(od::value& value, const Path& path, Fn&& fn) {
  return ForEachElementOf(value, path, [&](size_t index, od::value& element) {
    const Path element_path(&path, index);
    od::object object;
    error_code error = element.get_object().get(object);
    if (error == simdjson::INCORRECT_TYPE) {
      return NullOrWrongType(element, element_path, "an object");
    }
    if (error) return BadJson(error);
    return fn(object, element_path);
  });
}

Result ItemDecoder::ReadString(od::value& value, const Path& path, std::string_view& out) {
  error_code error = value.get_string().get(out);
  if (error == simdjson::SUCCESS) return Result::kOk;
  out = {};
  if (error != simdjson::INCORRECT_TYPE) return BadJson(error);
  return NullOrWrongType(value, path, "a string");
}

Result ItemDecoder::ReadBool(od::value& value, const Path& path, std::optional<bool>& out) {
  bool flag = false;
  error_code error = value.get_bool().get(flag);
  if (error == simdjson::SUCCESS) {
    out = flag;
    return Result::kOk;
  }
  out.reset();
  if (error != simdjson::INCORRECT_TYPE) return BadJson(error);
  od::json_type type{};
  if (value.type().get(type) == simdjson::SUCCESS && type == od::json_type::boolean) {
    return BadJson(simdjson::T_ATOM_ERROR);  // starts with t or f, yet is neither true nor false
  }
  return NullOrWrongType(value, path, "a boolean");
}

Result ItemDecoder::ReadPort(od::value& value, const Path& path, std::optional<uint16_t>& out) {
  constexpr std::string_view kNotAPort = "not an integer in 1..65535";
  out.reset();
  int64_t number = 0;
  const error_code error = value.get_int64().get(number);
  switch (error) {
    case simdjson::SUCCESS:
      if (number < 1 || number > 65535) return Malformed(path, kNotAPort);
      out = static_cast<uint16_t>(number);
      return Result::kOk;
    case simdjson::INCORRECT_TYPE:  // a string, an object, a fraction, 1e3, ...
      return NullOrWrongType(value, path, kNotAPort.substr(4));
    case simdjson::NUMBER_OUT_OF_RANGE:
      return Malformed(path, kNotAPort);
    default:  // NUMBER_ERROR ("12x") and the like: not JSON
      return BadJson(error);
  }
}

Result ItemDecoder::ReadProtocol(od::value& value, const Path& path, Protocol& out) {
  std::string_view text;
  if (Result result = ReadString(value, path, text); result != Result::kOk) return result;
  if (text.empty() || text == "TCP") {
    out = Protocol::kTcp;
  } else if (text == "UDP") {
    out = Protocol::kUdp;
  } else if (text == "SCTP") {
    out = Protocol::kSctp;
  } else {
    return Malformed(path, absl::StrCat("unknown protocol ", Quote(text)));
  }
  return Result::kOk;
}

Result ItemDecoder::Decode(od::object& object) {
  Result result = ForEachField(object, [this](od::raw_json_string key, od::value& value) {
    scope_ = kCommon;
    if (key == "kind") {
      Result read = ReadString(value, Path(nullptr, "kind"), kind_name_);
      kind_ = KindOf(kind_name_);
      return read;
    }
    if (key == "metadata") return DecodeMetadata(value);
    const Kind kind_now = kind();
    if (kind_now == Kind::kUnknown || kind_now == Kind::kService) {
      scope_ = kServiceScope;
      if (key == "spec") return DecodeServiceSpec(value);
    }
    if (kind_now == Kind::kUnknown || kind_now == Kind::kEndpointSlice) {
      scope_ = kSliceScope;
      if (key == "addressType") return DecodeAddressType(value);
      if (key == "endpoints") {
        if (!address_type_seen_) endpoints_before_type_ = true;
        return ForEachObjectOf(value, Path(nullptr, "endpoints"),
                               [this](od::object& endpoint, const Path& path) {
                                 return DecodeEndpoint(endpoint, path,
                                                       slice_.endpoints.emplace_back());
                               });
      }
      if (key == "ports") {
        return ForEachObjectOf(value, Path(nullptr, "ports"),
                               [this](od::object& port, const Path& path) {
                                 return DecodeSlicePort(port, path);
                               });
      }
    }
    return Result::kOk;
  });
  if (result == Result::kBadJson) return result;
  if (kind() == Kind::kService) FinishService();
  if (kind() == Kind::kEndpointSlice) FinishSlice();
  return problem().empty() ? Result::kOk : Result::kMalformed;
}

Result ItemDecoder::DecodeMetadata(od::value& value) {
  const Path metadata(nullptr, "metadata");
  return ForEachFieldOf(value, metadata, [&](od::raw_json_string key, od::value& field) {
    if (key == "name") return ReadString(field, Path(&metadata, "name"), name_);
    if (key == "namespace") return ReadString(field, Path(&metadata, "namespace"), ns_);
    if (key == "resourceVersion") {
      return ReadString(field, Path(&metadata, "resourceVersion"), resource_version_);
    }
    // Only slices need a label; a Service's labels are skipped unread.
    if (key == "labels" && kind() != Kind::kService) {
      return DecodeLabels(field, Path(&metadata, "labels"));
    }
    return Result::kOk;
  });
}

Result ItemDecoder::DecodeLabels(od::value& value, const Path& path) {
  const Scope saved = scope_;
  scope_ = kSliceScope;
  Result result = ForEachFieldOf(value, path, [&](od::raw_json_string key, od::value& label) {
    if (key != "kubernetes.io/service-name") return Result::kOk;
    return ReadString(label, Path(&path, "kubernetes.io/service-name"), service_name_);
  });
  scope_ = saved;
  return result;
}

// --- Service ---

Result ItemDecoder::DecodeServiceSpec(od::value& value) {
  const Path spec(nullptr, "spec");
  std::string_view cluster_ip;
  bool cluster_ips_seen = false;
  Result result = ForEachFieldOf(value, spec, [&](od::raw_json_string key, od::value& field) {
    if (key == "type") return DecodeServiceType(field, Path(&spec, "type"));
    if (key == "clusterIP") return ReadString(field, Path(&spec, "clusterIP"), cluster_ip);
    if (key == "clusterIPs") {
      return DecodeClusterIps(field, Path(&spec, "clusterIPs"), cluster_ips_seen);
    }
    if (key == "externalName") {
      std::string_view name;
      Result read = ReadString(field, Path(&spec, "externalName"), name);
      service_.external_name.assign(name);
      return read;
    }
    if (key == "ports") {
      return ForEachObjectOf(field, Path(&spec, "ports"),
                             [this](od::object& port, const Path& path) {
                               return DecodeServicePort(port, path);
                             });
    }
    if (key == "publishNotReadyAddresses") {
      std::optional<bool> flag;
      Result read = ReadBool(field, Path(&spec, "publishNotReadyAddresses"), flag);
      service_.publish_not_ready_addresses = flag.value_or(false);
      return read;
    }
    return Result::kOk;
  });
  if (result == Result::kBadJson) return result;
  if (cluster_ip == "None") service_.headless = true;
  // spec.clusterIP is the fallback for objects written before dual stack (no spec.clusterIPs).
  if (!cluster_ips_seen && !cluster_ip.empty() && cluster_ip != "None") {
    std::optional<IpAddress> ip = IpAddress::Parse(cluster_ip);
    if (!ip) {
      return Malformed(Path(&spec, "clusterIP"),
                       absl::StrCat("not an IP address ", Quote(cluster_ip)));
    }
    service_.cluster_ips.push_back(*ip);
  }
  return result;
}

Result ItemDecoder::DecodeServiceType(od::value& value, const Path& path) {
  std::string_view type;
  if (Result read = ReadString(value, path, type); read != Result::kOk) return read;
  if (type.empty() || type == "ClusterIP") {
    service_.type = ServiceType::kClusterIP;
  } else if (type == "NodePort") {
    service_.type = ServiceType::kNodePort;
  } else if (type == "LoadBalancer") {
    service_.type = ServiceType::kLoadBalancer;
  } else if (type == "ExternalName") {
    service_.type = ServiceType::kExternalName;
  } else {
    return Malformed(path, absl::StrCat("unknown type ", Quote(type)));
  }
  return Result::kOk;
}

Result ItemDecoder::DecodeClusterIps(od::value& value, const Path& path, bool& seen) {
  return ForEachElementOf(value, path, [&](size_t index, od::value& element) {
    const Path element_path(&path, index);
    std::string_view text;
    if (Result read = ReadString(element, element_path, text); read != Result::kOk) return read;
    if (text.empty()) return Result::kOk;
    seen = true;
    if (text == "None") {
      service_.headless = true;
      return Result::kOk;
    }
    std::optional<IpAddress> ip = IpAddress::Parse(text);
    if (!ip) return Malformed(element_path, absl::StrCat("not an IP address ", Quote(text)));
    service_.cluster_ips.push_back(*ip);
    return Result::kOk;
  });
}

Result ItemDecoder::DecodeServicePort(od::object& object, const Path& path) {
  records::ServicePort port;
  std::optional<uint16_t> number;
  bool malformed = false;
  Result result = ForEachField(object, [&](od::raw_json_string key, od::value& field) {
    Result read = Result::kOk;
    if (key == "name") {
      std::string_view name;
      read = ReadString(field, Path(&path, "name"), name);
      port.name.assign(name);
    } else if (key == "protocol") {
      read = ReadProtocol(field, Path(&path, "protocol"), port.protocol);
    } else if (key == "port") {
      read = ReadPort(field, Path(&path, "port"), number);
    }
    malformed |= read == Result::kMalformed;
    return read;
  });
  if (result != Result::kOk || malformed) return result;
  if (!number) return Malformed(Path(&path, "port"), "missing");
  port.port = *number;
  service_.ports.push_back(std::move(port));
  return Result::kOk;
}

void ItemDecoder::FinishService() {
  scope_ = kCommon;
  if (name_.empty()) Malformed(Path(nullptr, "metadata.name"), "missing");
  scope_ = kServiceScope;
  if (service_.type == ServiceType::kExternalName && service_.external_name.empty()) {
    Malformed(Path(nullptr, "spec.externalName"), "missing for type ExternalName");
  }
  service_.ns.assign(ns_.empty() ? std::string_view("default") : ns_);
  service_.name.assign(name_);
  service_.resource_version.assign(resource_version_);
}

// --- EndpointSlice ---

const char* AddressTypeName(AddressType type) {
  switch (type) {
    case AddressType::kIPv4:
      return "IPv4";
    case AddressType::kIPv6:
      return "IPv6";
    case AddressType::kFqdn:
      return "FQDN";
  }
  return "?";
}

bool FamilyMatches(const IpAddress& ip, AddressType type) {
  return ip.is_v4() ? type == AddressType::kIPv4 : type == AddressType::kIPv6;
}

std::string WrongFamily(const IpAddress& ip, std::string_view text, AddressType type) {
  return absl::StrCat(ip.is_v4() ? "IPv4" : "IPv6", " address ", Quote(text), " in an ",
                      AddressTypeName(type), " slice");
}

Result ItemDecoder::DecodeAddressType(od::value& value) {
  const Path path(nullptr, "addressType");
  std::string_view text;
  if (Result read = ReadString(value, path, text); read != Result::kOk) return read;
  if (text.empty()) return Result::kOk;  // reported as missing when the slice ends
  if (text == "IPv4") {
    slice_.address_type = AddressType::kIPv4;
  } else if (text == "IPv6") {
    slice_.address_type = AddressType::kIPv6;
  } else if (text == "FQDN") {
    slice_.address_type = AddressType::kFqdn;
  } else {
    return Malformed(path, absl::StrCat("unknown address type ", Quote(text)));
  }
  address_type_seen_ = true;
  return Result::kOk;
}

Result ItemDecoder::DecodeEndpoint(od::object& object, const Path& path,
                                   records::Endpoint& endpoint) {
  return ForEachField(object, [&](od::raw_json_string key, od::value& field) {
    if (key == "addresses") return DecodeAddresses(field, Path(&path, "addresses"), endpoint);
    if (key == "hostname") {
      std::string_view hostname;
      Result read = ReadString(field, Path(&path, "hostname"), hostname);
      endpoint.hostname.assign(hostname);
      return read;
    }
    if (key != "conditions") return Result::kOk;
    const Path conditions(&path, "conditions");
    return ForEachFieldOf(field, conditions, [&](od::raw_json_string name, od::value& flag) {
      if (name == "ready") return ReadBool(flag, Path(&conditions, "ready"), endpoint.ready);
      if (name == "serving") return ReadBool(flag, Path(&conditions, "serving"), endpoint.serving);
      if (name == "terminating") {
        return ReadBool(flag, Path(&conditions, "terminating"), endpoint.terminating);
      }
      return Result::kOk;
    });
  });
}

Result ItemDecoder::DecodeAddresses(od::value& value, const Path& path,
                                    records::Endpoint& endpoint) {
  return ForEachElementOf(value, path, [&](size_t index, od::value& element) {
    const Path element_path(&path, index);
    std::string_view text;
    if (Result read = ReadString(element, element_path, text); read != Result::kOk) return read;
    // FQDN slices are not answered, so their names are not kept.
    if (address_type_seen_ && slice_.address_type == AddressType::kFqdn) return Result::kOk;
    std::optional<IpAddress> ip = IpAddress::Parse(text);
    if (!ip) {
      std::string what = absl::StrCat("not an IP address ", Quote(text));
      if (address_type_seen_) return Malformed(element_path, what);
      if (deferred_address_problem_.empty()) {
        deferred_address_problem_ = absl::StrCat(element_path.Render(), ": ", what);
      }
      return Result::kOk;
    }
    if (address_type_seen_ && !FamilyMatches(*ip, slice_.address_type)) {
      return Malformed(element_path, WrongFamily(*ip, text, slice_.address_type));
    }
    endpoint.addresses.push_back(*ip);
    return Result::kOk;
  });
}

Result ItemDecoder::DecodeSlicePort(od::object& object, const Path& path) {
  records::EndpointPort& port = slice_.ports.emplace_back();
  return ForEachField(object, [&](od::raw_json_string key, od::value& field) {
    if (key == "name") {
      std::string_view name;
      Result read = ReadString(field, Path(&path, "name"), name);
      port.name.assign(name);
      return read;
    }
    if (key == "protocol") return ReadProtocol(field, Path(&path, "protocol"), port.protocol);
    if (key == "port") return ReadPort(field, Path(&path, "port"), port.port);
    return Result::kOk;
  });
}

void ItemDecoder::FinishSlice() {
  scope_ = kCommon;
  if (name_.empty()) Malformed(Path(nullptr, "metadata.name"), "missing");
  scope_ = kSliceScope;
  if (!address_type_seen_) {
    Malformed(Path(nullptr, "addressType"), "missing");
  } else if (slice_.address_type == AddressType::kFqdn) {
    for (records::Endpoint& endpoint : slice_.endpoints) endpoint.addresses.clear();
  } else if (endpoints_before_type_) {
    if (!deferred_address_problem_.empty() && problems_[kSliceScope].empty()) {
      problems_[kSliceScope] = std::move(deferred_address_problem_);
    }
    const Path endpoints(nullptr, "endpoints");
    for (size_t i = 0; i < slice_.endpoints.size(); ++i) {
      const Path endpoint(&endpoints, i);
      const Path addresses(&endpoint, "addresses");
      for (size_t j = 0; j < slice_.endpoints[i].addresses.size(); ++j) {
        const IpAddress& ip = slice_.endpoints[i].addresses[j];
        if (!FamilyMatches(ip, slice_.address_type)) {
          Malformed(Path(&addresses, j), WrongFamily(ip, ip.ToString(), slice_.address_type));
        }
      }
    }
  }
  slice_.ns.assign(ns_.empty() ? std::string_view("default") : ns_);
  slice_.name.assign(name_);
  slice_.resource_version.assign(resource_version_);
  slice_.service_name.assign(service_name_);
}

// Decodes a List document; see DecodeObjectList.
class ListDecoder {
 public:
  explicit ListDecoder(const simdjson::padded_string& json) : json_(json) {}

  absl::StatusOr<ObjectList> Run();

 private:
  // final_pass: the list kind is as known as it will ever be; an item without a kind of its own
  // is then skipped instead of triggering a second pass.
  absl::Status DecodeDocument(bool final_pass);
  absl::Status DecodeItems(od::value& value, bool final_pass);
  absl::Status DecodeListMetadata(od::value& value);
  absl::Status NotJson(error_code error);

  const simdjson::padded_string& json_;
  od::parser parser_;
  od::document doc_;
  ObjectList out_;
  std::string list_kind_;  // copied: it must outlive a rewind
  bool list_kind_seen_ = false;
  bool need_second_pass_ = false;
  bool iterating_ = false;  // doc_ holds an iterator (parser_.iterate succeeded)
};

absl::StatusOr<ObjectList> ListDecoder::Run() {
  if (error_code error = parser_.iterate(json_).get(doc_)) return NotJson(error);
  iterating_ = true;
  if (absl::Status status = DecodeDocument(/*final_pass=*/false); !status.ok()) return status;
  if (need_second_pass_) {
    out_ = ObjectList();
    doc_.rewind();
    if (absl::Status status = DecodeDocument(/*final_pass=*/true); !status.ok()) return status;
  }
  return std::move(out_);
}

absl::Status ListDecoder::NotJson(error_code error) {
  std::string message = absl::StrCat("not valid JSON: ", simdjson::error_message(error));
  const char* location = nullptr;
  // A document that failed to start has no iterator to ask.
  // At the root's own start it says nothing: the document as a whole is unbalanced or cut short.
  if (iterating_ && doc_.current_location().get(location) == simdjson::SUCCESS &&
      location > json_.data() && location < json_.data() + json_.size()) {
    absl::StrAppend(&message, " (near byte ", location - json_.data(), ")");
  }
  return absl::DataLossError(message);
}

absl::Status ListDecoder::DecodeDocument(bool final_pass) {
  od::object root;
  error_code error = doc_.get_object().get(root);
  if (error == simdjson::INCORRECT_TYPE) {
    return absl::InvalidArgumentError("not a List (not an object)");
  }
  if (error) return NotJson(error);
  bool items_seen = false;
  for (auto field : root) {
    od::raw_json_string key;
    if ((error = field.key().get(key))) return NotJson(error);
    od::value value;
    if ((error = field.value().get(value))) return NotJson(error);
    if (key == "kind") {
      std::string_view kind;
      error = value.get_string().get(kind);
      if (error == simdjson::INCORRECT_TYPE) {
        if ((error = StartsLikeAValue(value))) return NotJson(error);
        return absl::InvalidArgumentError("not a List (kind is not a string)");
      }
      if (error) return NotJson(error);
      if (!IsListKind(kind)) {
        return absl::InvalidArgumentError(absl::StrCat("not a List (kind ", Quote(kind), ")"));
      }
      list_kind_.assign(kind);
      list_kind_seen_ = true;
    } else if (key == "metadata") {
      if (absl::Status status = DecodeListMetadata(value); !status.ok()) return status;
    } else if (key == "items") {
      items_seen = true;
      if (absl::Status status = DecodeItems(value, final_pass); !status.ok()) return status;
    }
  }
  if (!list_kind_seen_ && !items_seen) {
    return absl::InvalidArgumentError("not a List (no \"kind\" and no \"items\")");
  }
  // The root object is closed; anything after it (a second document, a stray brace) is an error.
  const char* trailing = nullptr;
  if (doc_.current_location().get(trailing) == simdjson::SUCCESS) {
    return absl::DataLossError(absl::StrCat("not valid JSON: content after the end (byte ",
                                            trailing - json_.data(), ")"));
  }
  return absl::OkStatus();
}

absl::Status ListDecoder::DecodeListMetadata(od::value& value) {
  od::object object;
  error_code error = value.get_object().get(object);
  if (error == simdjson::INCORRECT_TYPE) {
    if ((error = StartsLikeAValue(value))) return NotJson(error);
    return absl::OkStatus();  // null or odd: the list's metadata is not needed
  }
  if (error) return NotJson(error);
  for (auto field : object) {
    od::raw_json_string key;
    if ((error = field.key().get(key))) return NotJson(error);
    if (key != "resourceVersion") continue;
    od::value field_value;
    if ((error = field.value().get(field_value))) return NotJson(error);
    std::string_view version;
    error = field_value.get_string().get(version);
    if (error == simdjson::INCORRECT_TYPE) error = StartsLikeAValue(field_value);
    if (error) return NotJson(error);
    out_.resource_version.assign(version);
  }
  return absl::OkStatus();
}

absl::Status ListDecoder::DecodeItems(od::value& value, bool final_pass) {
  od::array items;
  error_code error = value.get_array().get(items);
  if (error == simdjson::INCORRECT_TYPE) {
    if ((error = StartsLikeAValue(value))) return NotJson(error);
    bool is_null = false;
    if ((error = value.is_null().get(is_null))) return NotJson(error);
    if (is_null) return absl::OkStatus();
    return absl::InvalidArgumentError("not a List (items is not an array)");
  }
  if (error) return NotJson(error);
  const Kind hint = list_kind_seen_ ? ItemKindOfList(list_kind_) : Kind::kUnknown;
  size_t index = 0;
  for (auto element : items) {
    od::value item;
    if ((error = std::move(element).get(item))) return NotJson(error);
    od::object object;
    error = item.get_object().get(object);
    if (error == simdjson::INCORRECT_TYPE) {
      if ((error = StartsLikeAValue(item))) return NotJson(error);
      out_.skipped.push_back(absl::StrCat("items[", index++, "]: not an object"));
      continue;
    }
    if (error) return NotJson(error);
    ItemDecoder decoder(hint);
    Result result = decoder.Decode(object);
    if (result == Result::kBadJson) return NotJson(decoder.json_error());
    switch (decoder.kind()) {
      case Kind::kUnknown:
        if (!final_pass && !list_kind_seen_) {
          // A typed list may name its kind after its items: find it, then start over.
          need_second_pass_ = true;
          return absl::OkStatus();
        }
        out_.skipped.push_back(absl::StrCat("items[", index, "]: no \"kind\""));
        break;
      case Kind::kOther:
        ++out_.ignored_other_kinds;
        break;
      case Kind::kService:
      case Kind::kEndpointSlice:
        if (result == Result::kMalformed) {
          out_.skipped.push_back(
              absl::StrCat(decoder.has_name() ? "" : absl::StrCat("items[", index, "] "),
                           decoder.Describe(), ": ", decoder.problem()));
        } else if (decoder.kind() == Kind::kService) {
          out_.services.push_back(std::move(decoder.service()));
        } else {
          out_.slices.push_back(std::move(decoder.slice()));
        }
        break;
    }
    ++index;
  }
  return absl::OkStatus();
}

// Reads a whole file into a padded buffer, in one read for a regular file.
absl::StatusOr<simdjson::padded_string> ReadPadded(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (file == nullptr) return absl::ErrnoToStatus(errno, "cannot open");
  struct stat info;
  if (fstat(fileno(file.get()), &info) == 0 && S_ISREG(info.st_mode)) {
    const size_t size = static_cast<size_t>(info.st_size);
    simdjson::padded_string buffer(size);
    if (buffer.data() == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("cannot allocate ", size, " bytes"));
    }
    const size_t got = std::fread(buffer.data(), 1, size, file.get());
    if (std::ferror(file.get())) return absl::ErrnoToStatus(errno, "cannot read");
    if (got == size) return buffer;
    return simdjson::padded_string(buffer.data(), got);  // shrank while we read it
  }
  // A pipe or another stream: read to the end.
  std::string text;
  char chunk[1 << 16];
  size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof(chunk), file.get())) > 0) text.append(chunk, got);
  if (std::ferror(file.get())) return absl::ErrnoToStatus(errno, "cannot read");
  return simdjson::padded_string(text);
}

template <typename T>
absl::StatusOr<T> DecodeOne(od::object& object, Kind kind, std::string_view kind_name) {
  ItemDecoder decoder(kind);
  Result result = decoder.Decode(object);
  if (result == Result::kBadJson) {
    return absl::DataLossError(absl::StrCat(decoder.Describe(), ": not valid JSON: ",
                                            simdjson::error_message(decoder.json_error())));
  }
  if (decoder.kind() != kind) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a", kind == Kind::kService ? " " : "n ", Sv(kind_name), " (kind ",
                     Quote(decoder.kind_name()), ")"));
  }
  if (result == Result::kMalformed) {
    return absl::InvalidArgumentError(absl::StrCat(decoder.Describe(), ": ", decoder.problem()));
  }
  if constexpr (std::is_same_v<T, records::Service>) {
    return std::move(decoder.service());
  } else {
    return std::move(decoder.slice());
  }
}

}  // namespace

absl::StatusOr<records::Service> DecodeService(simdjson::ondemand::object object) {
  return DecodeOne<records::Service>(object, Kind::kService, "Service");
}

absl::StatusOr<records::EndpointSlice> DecodeEndpointSlice(simdjson::ondemand::object object) {
  return DecodeOne<records::EndpointSlice>(object, Kind::kEndpointSlice, "EndpointSlice");
}

absl::StatusOr<ObjectList> DecodePaddedObjectList(const simdjson::padded_string& json) {
  ListDecoder decoder(json);
  return decoder.Run();
}

absl::StatusOr<ObjectList> DecodeObjectList(std::string_view json) {
  const simdjson::padded_string padded(json);
  return DecodePaddedObjectList(padded);
}

absl::StatusOr<ObjectList> LoadObjectsFile(const std::string& path) {
  const std::string prefix = absl::StrCat("objects file ", path, ": ");
  absl::StatusOr<simdjson::padded_string> json = ReadPadded(path);
  if (!json.ok()) {
    return absl::Status(json.status().code(), absl::StrCat(prefix, json.status().message()));
  }
  absl::StatusOr<ObjectList> list = DecodePaddedObjectList(*json);
  if (!list.ok()) {
    return absl::Status(list.status().code(), absl::StrCat(prefix, list.status().message()));
  }
  return list;
}

}  // namespace clusterdns::controlplane
