// ParseCommandLine: EAL arguments before "--", dashes or underscores, bool forms, repeatable
// flags accumulating, and one error naming the argument for everything else.
#include "controlplane/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, test_name, "", "a string flag");
ABSL_FLAG(bool, test_switch, false, "a bool flag");
ABSL_FLAG(std::vector<std::string>, test_many, {}, "a repeatable flag");
ABSL_FLAG(int32_t, test_number, 0, "an int flag");

namespace clusterdns::controlplane {
namespace {

absl::StatusOr<CommandLine> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "clusterdns");
  return ParseCommandLine(static_cast<int>(args.size()), args.data(), {"test_many"});
}

class CommandLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::SetFlag(&FLAGS_test_name, "");
    absl::SetFlag(&FLAGS_test_switch, false);
    absl::SetFlag(&FLAGS_test_many, {});
    absl::SetFlag(&FLAGS_test_number, 0);
  }
};

TEST_F(CommandLineTest, DashesUnderscoresAndBothValueForms) {
  ASSERT_TRUE(Parse({"--test-name=a", "--test_number", "7", "--test-switch"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "a");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_number), 7);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_switch));
  ASSERT_TRUE(Parse({"--notest-switch"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_switch));
}

TEST_F(CommandLineTest, RepeatableFlagsAccumulate) {
  ASSERT_TRUE(Parse({"--test-many=a", "--test-many=b,c", "--test-many", "d"}).ok());
  EXPECT_THAT(absl::GetFlag(FLAGS_test_many), ::testing::ElementsAre("a", "b", "c", "d"));
}

TEST_F(CommandLineTest, EalArgumentsBeforeTheSeparator) {
  auto parsed = Parse({"-l", "0-3", "--no-pci", "--", "--test-name=x"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->eal_args, ::testing::ElementsAre("-l", "0-3", "--no-pci"));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "x");
  parsed = Parse({"--test-name=y"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->eal_args.empty());
}

TEST_F(CommandLineTest, ErrorsNameTheArgument) {
  auto unknown = Parse({"--test-nme=a"});
  EXPECT_THAT(std::string(unknown.status().message()), ::testing::HasSubstr("unknown flag --test-nme"));
  auto bad = Parse({"--test-number=x"});
  EXPECT_THAT(std::string(bad.status().message()), ::testing::HasSubstr("--test-number=x"));
  auto missing = Parse({"--test-name"});
  EXPECT_THAT(std::string(missing.status().message()), ::testing::HasSubstr("--test-name needs a value"));
  auto stray = Parse({"stray"});
  EXPECT_THAT(std::string(stray.status().message()), ::testing::HasSubstr("stray"));
  // --no on a flag that is not a bool is not a negation.
  EXPECT_FALSE(Parse({"--notest-name"}).ok());
}

TEST_F(CommandLineTest, HelpIsReportedAndListsFlagsWithDashes) {
  auto parsed = Parse({"--help"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->help);
  const std::string help = FlagsHelp("command_line_test");
  EXPECT_THAT(help, ::testing::HasSubstr("--test-many="));
  EXPECT_THAT(help, ::testing::HasSubstr("a repeatable flag"));
  EXPECT_THAT(help, ::testing::Not(::testing::HasSubstr("--test_many")));
}

}  // namespace
}  // namespace clusterdns::controlplane
