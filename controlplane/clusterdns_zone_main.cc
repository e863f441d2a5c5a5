// clusterdns-zone: compiles an objects file (kubectl get services,endpointslices -A -o json) with
// the zone flags and prints every record as sorted zone-file text, one record a line.
//   clusterdns-zone --objects-file=cluster.json --service-cidr=10.254.0.0/16
// Exit 0 on success (malformed objects are skipped with a line on stderr naming them), 1 when the
// file cannot be read or is not a JSON List, 2 on bad flags.
#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "controlplane/objects_json.h"
#include "controlplane/zone_flags.h"
#include "records/table_builder.h"
#include "records/zone_text.h"

ABSL_FLAG(std::string, objects_file, "",
          "JSON List as printed by kubectl get services,endpointslices -A -o json");
ABSL_FLAG(uint32_t, soa_serial, 0, "SOA serial to print (0: the current time)");

int main(int argc, char** argv) {
  using namespace clusterdns;
  absl::SetProgramUsageMessage(
      "prints the DNS records compiled from a Kubernetes objects file.\n"
      "  clusterdns-zone --objects-file=FILE [--domain=cluster.local] [--service-cidr=CIDR] ...");
  controlplane::NormalizeFlagNames(argc, argv);
  absl::ParseCommandLine(argc, argv);
  const std::string path = absl::GetFlag(FLAGS_objects_file);
  if (path.empty()) {
    std::cerr << "clusterdns-zone: --objects-file is required\n";
    return 2;
  }
  auto config = controlplane::ZoneConfigFromFlags();
  if (!config.ok()) {
    std::cerr << "clusterdns-zone: " << config.status().message() << "\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_soa_serial) != 0) config->soa_serial = absl::GetFlag(FLAGS_soa_serial);
  auto objects = controlplane::LoadObjectsFile(path);
  if (!objects.ok()) {
    std::cerr << "clusterdns-zone: " << objects.status().message() << "\n";
    return 1;
  }
  for (const std::string& line : objects->skipped) std::cerr << "clusterdns-zone: skipped " << line << "\n";
  auto builder = records::TableBuilder::Create(*config);
  if (!builder.ok()) {
    std::cerr << "clusterdns-zone: " << builder.status().message() << "\n";
    return 2;
  }
  for (auto& s : objects->services) (*builder)->UpsertService(std::move(s));
  for (auto& s : objects->slices) (*builder)->UpsertSlice(std::move(s));
  const std::vector<records::Record> records = (*builder)->AllRecords();
  for (const std::string& line : (*builder)->TakeProblems()) {
    std::cerr << "clusterdns-zone: skipped " << line << "\n";
  }
  for (const std::string& line : records::ZoneLines(records)) std::cout << line << "\n";
  return 0;
}
