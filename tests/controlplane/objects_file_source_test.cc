// Tests of controlplane/objects_file_source: the initial load, reloads on every way a file gets
// replaced (rewrite in place, rename over, ConfigMap-style ..data symlink swap, the stat() poll
// without inotify), failed reloads that keep the last good state, malformed items, Stop().
// Files are copies of tests/testdata/objects/ in a per-test temp dir; every wait is bounded.
#include "controlplane/objects_file_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "controlplane/objects_json.h"

namespace clusterdns::controlplane {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

std::string Testdata(std::string_view name) {
  std::ifstream in(std::string(CDNS_OBJECTS_TESTDATA_DIR) + "/" + std::string(name),
                   std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return text.str();
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

const char* KindName(ObjectKind kind) {
  return kind == ObjectKind::kService ? "services" : "slices";
}

// Records every sink call as a line; a listing is complete at OnListEnd(kEndpointSlice).
class RecordingSink : public SourceSink {
 public:
  void OnListStart(ObjectKind kind) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (kind == ObjectKind::kService) current_.clear();
    current_.push_back(std::string("start ") + KindName(kind));
  }
  void OnService(records::Service service) override {
    Add("service " + service.ns + "/" + service.name);
  }
  void OnSlice(records::EndpointSlice slice) override {
    Add("slice " + slice.ns + "/" + slice.name);
  }
  void OnDelete(ObjectKind kind, std::string ns, std::string name) override {
    Add(std::string("delete ") + KindName(kind) + " " + ns + "/" + name);
  }
  void OnListAbort(ObjectKind kind) override { Add(std::string("abort ") + KindName(kind)); }
  void OnListEnd(ObjectKind kind) override {
    std::lock_guard<std::mutex> lock(mu_);
    current_.push_back(std::string("end ") + KindName(kind));
    if (kind == ObjectKind::kEndpointSlice) {
      last_listing_ = current_;
      ++listings_;
    }
  }

  int listings() const {
    std::lock_guard<std::mutex> lock(mu_);
    return listings_;
  }
  std::vector<std::string> last_listing() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_listing_;
  }

 private:
  void Add(std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    current_.push_back(std::move(line));
  }

  mutable std::mutex mu_;
  std::vector<std::string> current_;
  std::vector<std::string> last_listing_;
  int listings_ = 0;
};

// Polls `done` every 5 ms for up to `timeout`.
bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(2)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The listing of kube_dns_walkthrough.json, in file order. Both kinds' listings are open before
// either ends, so that the controller publishes the whole file at once.
const std::vector<std::string> kWalkthroughListing = {
    "start services",
    "start slices",
    "service default/kubernetes",
    "service kube-system/kube-dns",
    "service default/redis-master",
    "slice default/kubernetes",
    "slice kube-system/kube-dns-x7k2p",
    "slice default/redis-master-9qzvd",
    "end services",
    "end slices",
};

class ObjectsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "objects_file_source_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/objects.json";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  static void Write(const std::string& path, std::string_view content) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  }
  // The file a fresh editor save would leave: written beside it, renamed over it.
  void RenameOver(const std::string& path, std::string_view content) {
    Write(path + ".tmp", content);
    ASSERT_EQ(std::rename((path + ".tmp").c_str(), path.c_str()), 0);
  }
  // inotify only, in effect: the stat() poll is too slow to rescue a test within its 2 s wait,
  // so these tests fail if inotify misses a change (StatPollWithoutInotify tests the poll).
  static ObjectsFileSource::Options Fast() {
    ObjectsFileSource::Options options;
    options.settle = absl::Milliseconds(20);
    options.poll_interval = absl::Seconds(30);
    return options;
  }
  // Waits for listing number `n`, delivered and counted, and returns the latest listing. The
  // source bumps stats_.lists after the sink has the listing's last call, so a test that reads
  // the count must not wait for the sink alone (that raced under ASan in CI).
  std::vector<std::string> WaitForListing(int n) {
    EXPECT_TRUE(WaitFor([&] {
      return sink_.listings() >= n && stats_.lists.load() >= static_cast<uint64_t>(n);
    })) << "listing " << n << " never came; " << sink_.listings() << " delivered, "
        << stats_.lists.load() << " counted so far";
    return sink_.last_listing();
  }

  std::string dir_;
  std::string path_;
  RecordingSink sink_;
  SourceStats stats_{"file"};
};

TEST_F(ObjectsFile, InitialLoadDeliversAFullListing) {
  Write(path_, Testdata("kube_dns_walkthrough.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ASSERT_TRUE(source.LoadInitial().ok());
  EXPECT_EQ(sink_.listings(), 1);
  EXPECT_EQ(sink_.last_listing(), kWalkthroughListing);
  EXPECT_EQ(stats_.lists.load(), 1u);
  EXPECT_TRUE(stats_.synced.load());
  EXPECT_GT(stats_.last_sync_unix_ms.load(), 1'600'000'000'000);
  EXPECT_EQ(stats_.errors.load(), 0u);
  EXPECT_EQ(stats_.malformed.load(), 0u);
}

TEST_F(ObjectsFile, MissingFileIsTheInitialError) {
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  const absl::Status status = source.LoadInitial();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(status), StartsWith("objects file " + path_ + ": cannot open"));
  EXPECT_EQ(sink_.listings(), 0);
  EXPECT_EQ(stats_.errors.load(), 1u);
  EXPECT_FALSE(stats_.synced.load());
}

TEST_F(ObjectsFile, InvalidInitialFileIsTheInitialError) {
  Write(path_, Testdata("truncated.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  absl::Status status = source.LoadInitial();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(status), StartsWith("objects file " + path_ + ": "));
  Write(path_, Testdata("not_a_list.json"));
  status = source.LoadInitial();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sink_.listings(), 0);
}

TEST_F(ObjectsFile, MalformedItemsAreSkippedLoggedAndCounted) {
  Write(path_, Testdata("malformed.json"));
  absl::StatusOr<ObjectList> expected = LoadObjectsFile(path_);
  ASSERT_TRUE(expected.ok());
  ASSERT_FALSE(expected->skipped.empty());
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ::testing::internal::CaptureStderr();
  const absl::Status status = source.LoadInitial();
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(stats_.malformed.load(), expected->skipped.size());
  for (const std::string& skipped : expected->skipped) {
    EXPECT_THAT(log, HasSubstr("objects file " + path_ + ": skipped " + skipped + "\n"));
  }
  const std::vector<std::string> listing = sink_.last_listing();
  EXPECT_THAT(listing, Contains("service default/good-1"));
  EXPECT_THAT(listing, Not(Contains("service default/bad-ip")));
  EXPECT_EQ(listing.size(), 4 + expected->services.size() + expected->slices.size());
}

TEST_F(ObjectsFile, RewriteInPlaceIsReloaded) {
  Write(path_, Testdata("kube_dns_walkthrough.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ASSERT_TRUE(source.LoadInitial().ok());
  ASSERT_TRUE(source.Start().ok());
  Write(path_, Testdata("external_name.json"));  // what `kubectl get ... > file` does
  EXPECT_THAT(WaitForListing(2), ElementsAre("start services", "start slices",
                                             "service prod/my-database",
                                             "slice prod/my-database-fqdn", "end services",
                                             "end slices"));
  EXPECT_EQ(stats_.lists.load(), 2u);
  EXPECT_EQ(stats_.errors.load(), 0u);
}

TEST_F(ObjectsFile, AtomicRenameIsReloaded) {
  Write(path_, Testdata("kube_dns_walkthrough.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ASSERT_TRUE(source.LoadInitial().ok());
  ASSERT_TRUE(source.Start().ok());
  RenameOver(path_, Testdata("headless.json"));
  EXPECT_THAT(WaitForListing(2), Contains("service storage/etcd-peers"));
}

// A ConfigMap volume: objects.json → ..data/objects.json, ..data → ..<timestamp>; an update
// writes a new ..<timestamp> and renames a new ..data_tmp symlink over ..data. objects.json
// itself gets no event.
TEST_F(ObjectsFile, ConfigMapSymlinkSwapIsReloaded) {
  std::filesystem::create_directory(Path("..2024_01_01"));
  Write(Path("..2024_01_01/objects.json"), Testdata("kube_dns_walkthrough.json"));
  std::filesystem::create_directory_symlink("..2024_01_01", Path("..data"));
  std::filesystem::create_symlink("..data/objects.json", path_);
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ASSERT_TRUE(source.LoadInitial().ok());
  ASSERT_TRUE(source.Start().ok());

  std::filesystem::create_directory(Path("..2024_01_02"));
  Write(Path("..2024_01_02/objects.json"), Testdata("dual_stack.json"));
  std::filesystem::create_directory_symlink("..2024_01_02", Path("..data_tmp"));
  ASSERT_EQ(std::rename(Path("..data_tmp").c_str(), Path("..data").c_str()), 0);
  std::filesystem::remove_all(Path("..2024_01_01"));
  EXPECT_THAT(WaitForListing(2), Contains("service shop/api-v6"));
  EXPECT_EQ(stats_.errors.load(), 0u);
}

TEST_F(ObjectsFile, FailedReloadKeepsTheLastGoodStateAndRecovers) {
  Write(path_, Testdata("kube_dns_walkthrough.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ASSERT_TRUE(source.LoadInitial().ok());
  ASSERT_TRUE(source.Start().ok());

  RenameOver(path_, Testdata("truncated.json"));  // half a file
  EXPECT_TRUE(WaitFor([&] { return stats_.errors.load() == 1; }));
  EXPECT_EQ(sink_.listings(), 1);  // nothing delivered: the sink keeps the walkthrough
  EXPECT_EQ(sink_.last_listing(), kWalkthroughListing);

  ASSERT_EQ(std::remove(path_.c_str()), 0);  // the file goes away: one more error
  EXPECT_TRUE(WaitFor([&] { return stats_.errors.load() == 2; }));
  EXPECT_EQ(sink_.listings(), 1);

  Write(path_, Testdata("headless.json"));  // and comes back, complete
  EXPECT_THAT(WaitForListing(2), Contains("service default/web"));
  EXPECT_EQ(stats_.errors.load(), 2u);
  EXPECT_EQ(stats_.lists.load(), 2u);
}

TEST_F(ObjectsFile, BurstOfWritesEndsWithTheLastContent) {
  Write(path_, Testdata("kube_dns_walkthrough.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ASSERT_TRUE(source.LoadInitial().ok());
  ASSERT_TRUE(source.Start().ok());
  const std::vector<std::string> contents = {Testdata("headless.json"),
                                             Testdata("dual_stack.json"),
                                             Testdata("external_name.json")};
  for (int i = 0; i < 9; ++i) RenameOver(path_, contents[i % 3]);
  EXPECT_TRUE(WaitFor([&] {
    const std::vector<std::string> listing = sink_.last_listing();
    return listing.size() > 2 && listing[2] == "service prod/my-database";
  })) << "last listing never showed external_name.json";
  EXPECT_EQ(stats_.errors.load(), 0u);
}

TEST_F(ObjectsFile, UnrelatedFilesInTheDirectoryDoNotReload) {
  Write(path_, Testdata("kube_dns_walkthrough.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ASSERT_TRUE(source.LoadInitial().ok());
  ASSERT_TRUE(source.Start().ok());
  Write(Path("notes.txt"), "hello");
  RenameOver(Path("other.json"), "{}");
  // Well past the settle time; then prove the watcher is alive by touching the file itself.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(sink_.listings(), 1);
  RenameOver(path_, Testdata("headless.json"));
  EXPECT_THAT(WaitForListing(2), Contains("service default/web"));
  EXPECT_EQ(sink_.listings(), 2);
}

TEST_F(ObjectsFile, ChangeBetweenLoadInitialAndStartIsPickedUp) {
  Write(path_, Testdata("kube_dns_walkthrough.json"));
  ObjectsFileSource::Options options = Fast();  // only the check at Start() can see it
  ObjectsFileSource source(path_, &sink_, &stats_, options);
  ASSERT_TRUE(source.LoadInitial().ok());
  RenameOver(path_, Testdata("headless.json"));
  ASSERT_TRUE(source.Start().ok());
  EXPECT_THAT(WaitForListing(2), Contains("service default/web"));
}

TEST_F(ObjectsFile, StatPollWithoutInotify) {
  Write(path_, Testdata("kube_dns_walkthrough.json"));
  ObjectsFileSource::Options options = Fast();
  options.use_inotify = false;
  options.poll_interval = absl::Milliseconds(50);
  ObjectsFileSource source(path_, &sink_, &stats_, options);
  ASSERT_TRUE(source.LoadInitial().ok());
  ASSERT_TRUE(source.Start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_EQ(sink_.listings(), 1);  // polls of an unchanged file deliver nothing
  Write(path_, Testdata("headless.json"));
  EXPECT_THAT(WaitForListing(2), Contains("service default/web"));
}

TEST_F(ObjectsFile, StopIsPrompt) {
  Write(path_, Testdata("empty.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());  // polls every 30 s
  ASSERT_TRUE(source.LoadInitial().ok());
  ASSERT_TRUE(source.Start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it block in poll()
  const absl::Time start = absl::Now();
  source.Stop();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  source.Stop();  // idempotent
  // Stopped means stopped: a change now is not delivered.
  RenameOver(path_, Testdata("headless.json"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(sink_.listings(), 1);
}

TEST_F(ObjectsFile, StartTwiceIsAnError) {
  Write(path_, Testdata("empty.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ASSERT_TRUE(source.Start().ok());
  EXPECT_EQ(source.Start().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ObjectsFile, EmptyListIsAListingOfNothing) {
  Write(path_, Testdata("empty.json"));
  ObjectsFileSource source(path_, &sink_, &stats_, Fast());
  ASSERT_TRUE(source.LoadInitial().ok());
  EXPECT_THAT(sink_.last_listing(),
              ElementsAre("start services", "start slices", "end services", "end slices"));
}

}  // namespace
}  // namespace clusterdns::controlplane
