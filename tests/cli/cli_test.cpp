// The command line as a user meets it: help, bad input, one clear error, no half files.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

using clickprompt::test_util::run_cli;
using clickprompt::test_util::TempDir;

TEST(Cli, HelpOnEverySubcommand) {
  for (const char* sub : {"", "data", "data prepare", "data export", "data synth", "data text", "train", "evaluate",
                          "predict", "models"}) {
    auto r = run_cli(std::string(sub) + " --help");
    EXPECT_EQ(r.code, 0) << sub << ": " << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub;
  }
}

TEST(Cli, UnknownModelSuggestsNearest) {
  TempDir d;
  ASSERT_EQ(run_cli("data synth --out " + d.path() + " --samples 2000 --users 50 --items 80").code, 0);
  auto r = run_cli("train --data " + d.file("dataset.yaml") + " --model dcnv3 --out " + d.file("run") +
                   " --cache-dir " + d.file("cache"));
  EXPECT_EQ(r.code, clickprompt::kExitBadInput);
  EXPECT_NE(r.output.find("did you mean 'dcnv2'"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("frame #"), std::string::npos) << "no torch stack trace";
  EXPECT_FALSE(std::filesystem::exists(d.file("run/result.json")));
}

TEST(Cli, BadInputsGiveOneClearError) {
  TempDir d;
  auto r = run_cli("data prepare --data " + d.file("missing.yaml"));
  EXPECT_EQ(r.code, clickprompt::kExitBadInput);
  EXPECT_NE(r.output.find("config file not found"), std::string::npos) << r.output;

  ASSERT_EQ(run_cli("data synth --out " + d.path() + " --samples 2000 --users 50 --items 80").code, 0);
  auto r2 = run_cli("train --data " + d.file("dataset.yaml") + " --model dnn --set model.embeding_dim=4 --out " +
                    d.file("run") + " --cache-dir " + d.file("cache"));
  EXPECT_EQ(r2.code, clickprompt::kExitBadInput);
  EXPECT_NE(r2.output.find("did you mean 'embedding_dim'"), std::string::npos) << r2.output;

  // A malformed CSV row: file:line and the row.
  d.write("bad.csv", "user_id,age,region,item_id,title,category,brand,timestamp,click,prob\n"
                     "u1,18-24,north,i1,t,books,b,0,1,0.5\nu2,18-24\n");
  d.write("bad.yaml", "name: bad\nformat: csv\npath: " + d.file("bad.csv") +
                          "\nfields: [{name: user_id}, {name: item_id}]\nlabel: {column: click}\n");
  auto r3 = run_cli("data prepare --data " + d.file("bad.yaml") + " --cache-dir " + d.file("c2"));
  EXPECT_EQ(r3.code, clickprompt::kExitBadInput);
  EXPECT_NE(r3.output.find("bad.csv:3"), std::string::npos) << r3.output;
  EXPECT_NE(r3.output.find("u2,18-24"), std::string::npos) << r3.output;

  auto r4 = run_cli("evaluate --run " + d.file("nothing-here"));
  EXPECT_EQ(r4.code, clickprompt::kExitBadInput);
  EXPECT_NE(r4.output.find("not a finished run folder"), std::string::npos) << r4.output;
}

TEST(Cli, SynthPrepareTextExportTrainEvaluatePredict) {
  TempDir d;
  ASSERT_EQ(run_cli("data synth --out " + d.path() + " --samples 6000 --users 100 --items 200").code, 0);
  std::string data = " --data " + d.file("dataset.yaml") + " --cache-dir " + d.file("cache");
  auto p = run_cli("data prepare" + data);
  EXPECT_EQ(p.code, 0) << p.output;
  EXPECT_NE(p.output.find("train 4800"), std::string::npos) << p.output;
  auto t = run_cli("data text --rows 2" + data);
  EXPECT_NE(t.output.find("User ID is u"), std::string::npos) << t.output;
  EXPECT_EQ(run_cli("data export --split test --out " + d.file("test.csv") + data).code, 0);
  auto tr = run_cli("--threads 1 train --model fm --no-progress --set train.epochs=1 --out " + d.file("run") + data);
  ASSERT_EQ(tr.code, 0) << tr.output;
  EXPECT_NE(tr.output.find("threads=1"), std::string::npos) << "runtime summary printed";
  EXPECT_TRUE(std::filesystem::exists(d.file("run/result.json")));
  auto ev = run_cli("evaluate --run " + d.file("run") + " --cache-dir " + d.file("cache"));
  EXPECT_EQ(ev.code, 0) << ev.output;
  EXPECT_NE(ev.output.find("\"auc\""), std::string::npos);
  auto pr = run_cli("predict --run " + d.file("run") + " --input " + d.file("test.csv") + " --out " + d.file("s.csv"));
  EXPECT_EQ(pr.code, 0) << pr.output;
  EXPECT_NE(pr.output.find("scored 600 rows"), std::string::npos) << pr.output;
}
