// Strict command-line parsing: see command_line.h.
#include "controlplane/command_line.h"

#include <algorithm>
#include <map>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace clusterdns::controlplane {
namespace {

std::string Underscores(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string Dashes(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv,
                                             const std::vector<std::string>& repeatable) {
  CommandLine out;
  int first = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      for (int j = 1; j < i; ++j) out.eal_args.emplace_back(argv[j]);
      first = i + 1;
      break;
    }
  }
  std::map<std::string, std::string> accumulated;  // repeatable flag → comma-joined values
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "--helpfull") {
      out.help = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", std::string(arg),
                                                     "\" (options are --name=value)"));
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    std::string name;
    std::string value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = Underscores(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
      has_value = true;
    } else {
      name = Underscores(arg);
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negated = false;
    if (flag == nullptr && !has_value && name.starts_with("no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      negated = flag != nullptr && flag->IsOfType<bool>();
      if (!negated) flag = nullptr;
      if (negated) name = name.substr(2);
    }
    if (flag == nullptr || flag->IsRetired()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", Dashes(name),
                                                     " (--help lists them)"));
    }
    if (!has_value) {
      if (flag->IsOfType<bool>()) {
        value = negated ? "false" : "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", Dashes(name), " needs a value"));
      }
    }
    if (std::find(repeatable.begin(), repeatable.end(), name) != repeatable.end()) {
      std::string& all = accumulated[name];
      if (!all.empty() && !value.empty()) all += ",";
      all += value;
      continue;
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", Dashes(name), "=", value, ": ", error));
    }
  }
  for (const auto& [name, value] : accumulated) {
    std::string error;
    if (!absl::FindCommandLineFlag(name)->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", Dashes(name), "=", value, ": ", error));
    }
  }
  return out;
}

std::string FlagsHelp(std::string_view source_filter) {
  std::map<std::string, const absl::CommandLineFlag*> ours;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (flag->Filename().find(source_filter) == std::string::npos) continue;
    ours[Dashes(std::string(name))] = flag;
  }
  std::string out;
  for (const auto& [name, flag] : ours) {
    absl::StrAppend(&out, "  --", name, "=", flag->DefaultValue(), "\n      ", flag->Help(), "\n");
  }
  return out;
}

}  // namespace clusterdns::controlplane
