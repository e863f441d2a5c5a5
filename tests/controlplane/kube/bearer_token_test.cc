// Tests of controlplane/kube/bearer_token: fixed tokens, token files re-read only when stat()
// says they changed (rewrite, atomic rename, kubelet-style ..data symlink swap), errors.
// "Not re-read" is proved with file_reads(), which counts every open+read of the file.
#include "controlplane/kube/bearer_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace clusterdns::controlplane {
namespace {

using ::testing::Eq;
using ::testing::HasSubstr;

// Status messages are absl::string_view, which gmock's string matchers do not take.
std::string Message(const absl::Status& status) { return std::string(status.message()); }

class BearerToken : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "bearer_token_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  void Write(const std::string& path, std::string_view content) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  }
  // Sets the file's mtime explicitly, so that tests do not depend on the timestamp granularity.
  void SetMtime(const std::string& path, time_t seconds) {
    const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }
  KubeConnection WithTokenFile(const std::string& path, std::string token = "") {
    KubeConnection connection;
    connection.server = "https://x";
    connection.token_file = path;
    connection.token = std::move(token);
    return connection;
  }

  std::string dir_;
};

TEST_F(BearerToken, FixedToken) {
  KubeConnection connection;
  connection.token = "fixed";
  BearerTokenSource source(connection);
  EXPECT_EQ(source.Current().value_or("error"), "fixed");
  EXPECT_EQ(source.Current().value_or("error"), "fixed");
  EXPECT_EQ(source.file_reads(), 0u);
}

TEST_F(BearerToken, NoTokenIsEmpty) {
  KubeConnection connection;
  connection.client_cert_pem = "cert";
  BearerTokenSource source(connection);
  absl::StatusOr<std::string> token = source.Current();
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "");
}

TEST_F(BearerToken, FileIsTrimmedAndWinsOverFixedToken) {
  Write(Path("token"), "  \n jwt.token.value\r\n\n");
  BearerTokenSource source(WithTokenFile(Path("token"), "fixed"));
  EXPECT_EQ(source.Current().value_or("error"), "jwt.token.value");
}

TEST_F(BearerToken, UnchangedFileIsNotReread) {
  Write(Path("token"), "one");
  BearerTokenSource source(WithTokenFile(Path("token")));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(source.Current().value_or("error"), "one");
  EXPECT_EQ(source.file_reads(), 1u);
}

TEST_F(BearerToken, RewriteInPlaceIsSeen) {
  Write(Path("token"), "one");
  SetMtime(Path("token"), 1'000'000);
  BearerTokenSource source(WithTokenFile(Path("token")));
  EXPECT_EQ(source.Current().value_or("error"), "one");
  // Same inode, same size: only the mtime tells.
  Write(Path("token"), "two");
  SetMtime(Path("token"), 1'000'001);
  EXPECT_EQ(source.Current().value_or("error"), "two");
  // Same inode and mtime, other size.
  Write(Path("token"), "three");
  SetMtime(Path("token"), 1'000'001);
  EXPECT_EQ(source.Current().value_or("error"), "three");
  EXPECT_EQ(source.Current().value_or("error"), "three");
  EXPECT_EQ(source.file_reads(), 3u);
}

TEST_F(BearerToken, AtomicRenameIsSeen) {
  Write(Path("token"), "old-token");
  BearerTokenSource source(WithTokenFile(Path("token")));
  EXPECT_EQ(source.Current().value_or("error"), "old-token");
  Write(Path("token.tmp"), "new-token");  // same size; a new inode
  ASSERT_EQ(rename(Path("token.tmp").c_str(), Path("token").c_str()), 0);
  EXPECT_EQ(source.Current().value_or("error"), "new-token");
  EXPECT_EQ(source.file_reads(), 2u);
}

// The kubelet's AtomicWriter: token → ..data/token, ..data → ..<timestamp>; a rotation writes a
// new ..<timestamp> directory and renames a fresh ..data_tmp symlink over ..data.
TEST_F(BearerToken, KubeletSymlinkSwapIsSeen) {
  std::filesystem::create_directory(Path("..2024_01"));
  Write(Path("..2024_01/token"), "token-1");
  std::filesystem::create_directory_symlink("..2024_01", Path("..data"));
  std::filesystem::create_symlink("..data/token", Path("token"));
  BearerTokenSource source(WithTokenFile(Path("token")));
  EXPECT_EQ(source.Current().value_or("error"), "token-1");

  std::filesystem::create_directory(Path("..2024_02"));
  Write(Path("..2024_02/token"), "token-2");
  std::filesystem::create_directory_symlink("..2024_02", Path("..data_tmp"));
  ASSERT_EQ(rename(Path("..data_tmp").c_str(), Path("..data").c_str()), 0);
  std::filesystem::remove_all(Path("..2024_01"));
  EXPECT_EQ(source.Current().value_or("error"), "token-2");
  EXPECT_EQ(source.Current().value_or("error"), "token-2");
  EXPECT_EQ(source.file_reads(), 2u);
}

TEST_F(BearerToken, MaxAgeForcesARead) {
  Write(Path("token"), "one");
  BearerTokenSource source(WithTokenFile(Path("token")), absl::ZeroDuration());
  EXPECT_EQ(source.Current().value_or("error"), "one");
  EXPECT_EQ(source.Current().value_or("error"), "one");
  EXPECT_EQ(source.file_reads(), 2u);
}

TEST_F(BearerToken, MissingFileIsAnErrorUntilItAppears) {
  BearerTokenSource source(WithTokenFile(Path("token")));
  absl::StatusOr<std::string> token = source.Current();
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(token.status()), HasSubstr("token file " + Path("token") + ": cannot read"));
  Write(Path("token"), "late");
  EXPECT_EQ(source.Current().value_or("error"), "late");
}

TEST_F(BearerToken, EmptyFileIsAnErrorAndIsRetried) {
  Write(Path("token"), " \n");
  SetMtime(Path("token"), 2'000'000);
  BearerTokenSource source(WithTokenFile(Path("token")));
  absl::StatusOr<std::string> token = source.Current();
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(Message(token.status()), "token file " + Path("token") + ": empty");
  // The failure is not cached: the same (unchanged) file is read again.
  EXPECT_FALSE(source.Current().ok());
  EXPECT_EQ(source.file_reads(), 2u);
  Write(Path("token"), "now");
  EXPECT_EQ(source.Current().value_or("error"), "now");
}

TEST_F(BearerToken, BadContentIsAnError) {
  Write(Path("token"), "two words");
  BearerTokenSource source(WithTokenFile(Path("token")));
  EXPECT_THAT(Message(source.Current().status()), HasSubstr("whitespace or control"));
  Write(Path("big"), std::string(65 * 1024, 'a'));
  BearerTokenSource big(WithTokenFile(Path("big")));
  EXPECT_THAT(Message(big.Current().status()), HasSubstr("larger than 64 KiB"));
  std::filesystem::create_directory(Path("dir"));
  BearerTokenSource dir(WithTokenFile(Path("dir")));
  EXPECT_FALSE(dir.Current().ok());
}

TEST_F(BearerToken, ConcurrentCallersSeeWholeTokens) {
  Write(Path("token"), "token-a");
  BearerTokenSource source(WithTokenFile(Path("token")));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        absl::StatusOr<std::string> token = source.Current();
        if (!token.ok() || (*token != "token-a" && *token != "token-b")) ++bad;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {  // atomic swaps: a reader never sees a missing or partial file
    const std::string next = i % 2 == 0 ? "token-b" : "token-a";
    Write(Path("token.tmp"), next);
    if (rename(Path("token.tmp").c_str(), Path("token").c_str()) != 0) {
      ADD_FAILURE() << "rename failed";
      break;
    }
  }
  stop = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_THAT(source.Current().value_or("error"), Eq("token-a"));
}

}  // namespace
}  // namespace clusterdns::controlplane
