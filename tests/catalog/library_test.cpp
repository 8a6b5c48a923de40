// A library's settings.json as users write it: keys left out or set to null, values of the wrong type, numbers out
// of range. Every reader of the settings relies on what Library::open checked.
#include "catalog/library.h"

#include <gtest/gtest.h>

#include "jobs/queue.h"
#include "support/cli.h"

namespace dr::catalog {
namespace {

struct LibraryTest : ::testing::Test {
  test::TempDir dir;
  void SetUp() override { Library::create(dir.path()); }
  Library open_with(const std::string& settings) {
    test::write_file(dir / "settings.json", settings);
    return Library::open(dir.path());
  }
};

// Found by fuzz/settings_fuzz.cpp (fuzz/regressions/settings_fuzz/no-roots.json: "{}"): `serve` read the optional
// "roots" with nlohmann::json's const operator[], which asserts (and in a release build reads past the end of the
// settings object) when the key is absent, as it is in the default settings. The readers now ask for keys that may
// be absent with value(), and keys set to null (which the merge over the defaults deletes) get their default back.
TEST_F(LibraryTest, MissingAndNullKeysGetTheirDefaults) {
  auto lib = open_with(test::fuzz_regression("settings_fuzz", "no-roots.json"));
  EXPECT_EQ(lib.settings(), Library::default_settings());
  EXPECT_FALSE(lib.settings().contains("roots"));
  lib = open_with(R"({"queue": null, "analyzers": null, "tasks": null, "busy_timeout_ms": null})");
  EXPECT_EQ(lib.settings(), Library::default_settings());
  lib = open_with(R"({"queue": {"max_attempts": null, "lease_seconds": 90.5}, "roots": ["/photos"], "mine": 1})");
  EXPECT_FALSE(lib.settings()["queue"].contains("max_attempts"));
  EXPECT_EQ(lib.settings()["queue"]["lease_seconds"], 90.5);
  EXPECT_EQ(lib.settings()["mine"], 1);  // keys darkroom does not know are kept
  EXPECT_EQ(jobs::RetryPolicy::from_settings(lib.settings()).max_attempts, 5);
}

// What the settings fuzzer reaches once the library opens: numbers a reader converts to an int (1e300 into
// max_attempts is undefined behaviour), objects where a reader indexes by key, lists of strings.
TEST_F(LibraryTest, SettingsOfTheWrongShapeAreRefusedWithASentence) {
  struct Case {
    const char* settings;
    const char* says;
  };
  for (auto c :
       {Case{R"({"queue": 5})", R"("queue" must be an object)"},
        Case{R"({"queue": {"max_attempts": 1e300}})", R"("queue"."max_attempts" must be a whole number)"},
        Case{R"({"queue": {"max_attempts": 0}})", R"("queue"."max_attempts" must be a whole number from 1)"},
        Case{R"({"queue": {"backoff_ms": -1}})", R"("queue"."backoff_ms")"},
        Case{R"({"queue": {"backoff_max_ms": 18446744073709551615}})", R"("queue"."backoff_max_ms")"},
        Case{R"({"queue": {"lease_seconds": "60"}})", R"("queue"."lease_seconds" must be a number of seconds)"},
        Case{R"({"queue": {"stop_deadline_seconds": 1e30}})", R"("queue"."stop_deadline_seconds")"},
        Case{R"({"queue": {"job_time_limit_seconds": -1}})", R"("queue"."job_time_limit_seconds")"},
        Case{R"({"queue": {"task_concurrency": [1]}})", R"("queue"."task_concurrency" must be an object)"},
        Case{R"({"queue": {"task_concurrency": {"faces": 2.5}}})", R"("queue"."task_concurrency"."faces")"},
        Case{R"({"busy_timeout_ms": 1e19})", R"("busy_timeout_ms" must be a whole number)"},
        Case{R"({"tasks": "pdq"})", R"("tasks" must be a list of strings)"},
        Case{R"({"roots": ["/a", 5]})", R"("roots" must be a list of strings)"},
        Case{R"({"analyzers": []})", R"("analyzers" must be an object)"},
        Case{R"({"analyzers": {"thumbs": 80}})", R"("analyzers"."thumbs" must be an object)"},
        Case{R"({"analyzers": {"text": {"limit_side": 1e300}}})", R"("analyzers"."text"."limit_side")"}}) {
    try {
      open_with(c.settings);
      ADD_FAILURE() << "accepted " << c.settings;
    } catch (const LibraryError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(c.says), std::string::npos) << what;
      EXPECT_EQ(what.find(dir / "settings.json"), 0u) << what;  // names the file
      EXPECT_NE(what.find("fix it, or delete it to get the default"), std::string::npos) << what;
    }
  }
  // Not JSON, or not an object: as before.
  EXPECT_THROW(open_with("[1, 2]"), LibraryError);
  EXPECT_THROW(open_with("{\"queue\": "), LibraryError);
}

}  // namespace
}  // namespace dr::catalog
