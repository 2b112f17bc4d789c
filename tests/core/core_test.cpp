#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/io.h"
#include "core/params.h"
#include "core/runtime.h"
#include "core/strings.h"
#include "test_util.h"

using namespace clickprompt;

TEST(Strings, SplitTrimLower) {
  auto p = core::split("1::F::25", "::");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[1], "F");
  EXPECT_EQ(core::split("a|", "|").size(), 2u);
  EXPECT_EQ(core::trim("  x y\r\n"), "x y");
  EXPECT_EQ(core::to_lower("DCNv2"), "dcnv2");
}

TEST(Strings, EditDistanceAndSuggestion) {
  EXPECT_EQ(core::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(core::edit_distance("", "abc"), 3u);
  auto s = core::suggest("dcnv3", {"fm", "dnn", "dcnv2"});
  EXPECT_NE(s.find("did you mean 'dcnv2'"), std::string::npos);
  EXPECT_EQ(core::suggest("zzzzzzzz", {"fm"}).find("did you mean"), std::string::npos);
}

TEST(Strings, Latin1ToUtf8) {
  EXPECT_EQ(core::latin1_to_utf8("L\xe9on"), "L\xc3\xa9on");
  EXPECT_EQ(core::latin1_to_utf8("abc"), "abc");
}

TEST(Strings, ParseNumbersWithContext) {
  EXPECT_EQ(core::parse_int(" 42 ", "x"), 42);
  EXPECT_DOUBLE_EQ(core::parse_double("0.5", "x"), 0.5);
  try {
    core::parse_int("4x", "Rating");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Rating"), std::string::npos);
  }
}

#if defined(__GLIBC__)
// A training step frees and re-allocates blocks larger than glibc's maximum mmap
// threshold (32 MB: an MLM step's vocabulary logits); they must come from the
// heap and stay there when freed, or every step pays page faults to zero them.
TEST(Runtime, KeepFreedMemoryServesLargeBlocksFromTheHeapAndKeepsThem) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's malloc: its tunables do not apply";
#endif
  core::keep_freed_memory();
  const size_t n = 96u << 20;
  const size_t mmapped_before = mallinfo2().hblkhd;
  char* volatile p = static_cast<char*>(std::malloc(n));
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, n);
  EXPECT_EQ(mallinfo2().hblkhd, mmapped_before) << "a 96 MB block was mmap-ed";
  std::free(p);
  EXPECT_GE(mallinfo2().fordblks, n) << "the freed 96 MB went back to the kernel";
}
#endif

TEST(Io, AtomicWriteLeavesNoTempOnFailure) {
  test_util::TempDir d;
  std::string path = d.file("out.txt");
  core::atomic_write_string(path, "hello");
  EXPECT_EQ(core::read_file(path), "hello");
  EXPECT_THROW(core::atomic_write(path, [](const std::string& tmp) {
                 std::ofstream(tmp) << "partial";
                 throw Error("boom");
               }),
               Error);
  EXPECT_EQ(core::read_file(path), "hello");  // the old file survives
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(d.path())) (void)e, ++files;
  EXPECT_EQ(files, 1);
}

TEST(Io, LinesHashesAndGzip) {
  test_util::TempDir d;
  d.write("a.txt", "x\r\ny\nz");
  std::vector<std::string> lines;
  core::for_each_line(d.file("a.txt"), [&](std::string_view l, size_t n) {
    lines.emplace_back(l);
    EXPECT_EQ(n, lines.size());
  });
  EXPECT_EQ(lines, (std::vector<std::string>{"x", "y", "z"}));
  d.write("b.txt", "x\r\ny\nz");
  EXPECT_EQ(core::hash_file(d.file("a.txt")), core::hash_file(d.file("b.txt")));
  d.write("b.txt", "x\r\ny\nZ");
  EXPECT_NE(core::hash_file(d.file("a.txt")), core::hash_file(d.file("b.txt")));
  ASSERT_EQ(std::system(("printf 'p\\nq\\n' | gzip > " + d.file("c.txt.gz")).c_str()), 0);
  EXPECT_EQ(core::read_file(d.file("c.txt.gz")), "p\nq\n");
  EXPECT_THROW(core::read_file(d.file("missing.txt")), Error);
}

TEST(Params, TypedGettersRecordDefaultsAndRejectUnknownKeys) {
  core::Params p(YAML::Load("{embedding_dim: 16, dnn_hidden_units: [8, 4], embeding_size: 3}"), "model dnn");
  EXPECT_EQ(p.get<int>("embedding_dim", 32), 16);
  EXPECT_EQ(p.get<std::vector<int>>("dnn_hidden_units", {}), (std::vector<int>{8, 4}));
  EXPECT_DOUBLE_EQ(p.get<double>("net_dropout", 0.25), 0.25);
  EXPECT_DOUBLE_EQ(p.node()["net_dropout"].as<double>(), 0.25);  // default recorded as used
  try {
    p.check_unused();
    FAIL() << "unknown key accepted";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("embeding_size"), std::string::npos);
    EXPECT_NE(m.find("embedding_dim"), std::string::npos);  // the suggestion
  }
  core::Params bad(YAML::Load("{embedding_dim: sixteen}"), "m");
  EXPECT_THROW(bad.get<int>("embedding_dim", 1), Error);
}

TEST(Params, OverridesAndMerge) {
  YAML::Node root = YAML::Load("{train: {lr: 0.001}, seed: 1}");
  core::apply_override(root, "train.lr=0.01");
  core::apply_override(root, "model.dnn_hidden_units=[4,4]");
  EXPECT_DOUBLE_EQ(root["train"]["lr"].as<double>(), 0.01);
  EXPECT_EQ(root["model"]["dnn_hidden_units"].size(), 2u);
  EXPECT_THROW(core::apply_override(root, "novalue"), Error);
  auto m = core::merge_yaml(YAML::Load("{a: {b: 1, c: 2}}"), YAML::Load("{a: {c: 3}}"));
  EXPECT_EQ(m["a"]["b"].as<int>(), 1);
  EXPECT_EQ(m["a"]["c"].as<int>(), 3);
}
