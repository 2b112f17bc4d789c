// Model bundles, the v2 inference server over real HTTP on loopback, and
// streaming batch scoring, on a DCNv2 trained on a small synthetic world.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bundle/bundle.h"
#include "core/io.h"
#include "data/dataset.h"
#include "data/reader.h"
#include "metrics/metrics.h"
#include "serve/batch_scoring.h"
#include "serve/batcher.h"
#include "serve/inference_protocol.h"
#include "serve/server.h"
#include "train/run.h"
#include "test_util.h"

using namespace clickprompt;
using clickprompt::test_util::TempDir;
using json = nlohmann::json;

namespace {

// One trained DCNv2 run, its bundle and the test split as CSV, made once for the suite.
struct Fixture {
  TempDir dir{"cp-serve"};
  std::string run, bundle, test_csv, scores_csv;
  data::Dataset ds;
  Fixture() {
    at::set_num_threads(1);
    const std::string spec = test_util::synthetic_spec(dir, "syn-serve", 4000, 120, 200);
    YAML::Node cfg;
    cfg["dataset"] = core::load_yaml(spec);
    cfg["model"]["model"] = "dcnv2";
    cfg["model"]["embedding_dim"] = 8;
    cfg["model"]["dnn_hidden_units"] = std::vector<int>{16};
    cfg["model"]["num_cross_layers"] = 2;
    cfg["train"]["epochs"] = 1;
    cfg["train"]["batch_size"] = 256;
    cfg["seed"] = 5;
    train::RunOptions ro;
    ro.out_dir = run = dir.file("run");
    ro.cache_root = dir.file("cache");
    ro.progress = false;
    train::run_ctr(cfg, ro);
    bundle = dir.file("bundle");
    train::export_run(run, bundle);
    ds = data::prepare_dataset(data::DatasetSpec::load(spec), {dir.file("cache"), false});
    test_csv = dir.file("test.csv");
    data::export_csv(ds, "test", test_csv);
    scores_csv = dir.file("scores.csv");
    auto r = test_util::run_cli("predict --bundle " + bundle + " --input " + test_csv + " --out " + scores_csv +
                                " --no-progress");
    if (r.code != 0) throw std::runtime_error("predict failed: " + r.output);
  }
  // The predict scores of the test split, in row order.
  std::vector<double> predicted() const {
    auto t = data::read_csv(scores_csv, {}, {"score"});
    return t.numbers.at("score");
  }
  // Test row r's raw value of field f.
  std::string value(int64_t r, int f) const { return ds.value(ds.test, r, f); }
};
Fixture& fx() {
  static Fixture f;
  return f;
}

// The v2 request for test rows [begin, end).
json request_rows(int64_t begin, int64_t end) {
  json inputs = json::array();
  for (size_t f = 0; f < fx().ds.fields.size(); ++f) {
    json data = json::array();
    for (int64_t r = begin; r < end; ++r) data.push_back(fx().value(r, static_cast<int>(f)));
    inputs.push_back({{"name", fx().ds.fields[f].name}, {"datatype", "BYTES"}, {"shape", {end - begin}}, {"data", data}});
  }
  return {{"id", "t"}, {"inputs", inputs}};
}

// A server on an ephemeral loopback port, serving the bundle as "m", in a thread.
struct LiveServer {
  serve::Server server;
  int port = 0;
  std::thread thread;
  explicit LiveServer(serve::ServerOptions o = {}) : server(with_port0(o)) {
    server.add_model("m", bundle::load(fx().bundle), 0.1);
    port = server.bind();
    thread = std::thread([this] { server.serve(); });
  }
  ~LiveServer() {
    server.stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c;
  }
  static serve::ServerOptions with_port0(serve::ServerOptions o) {
    o.port = 0;
    return o;
  }
};

}  // namespace

TEST(Bundle, ExportWritesAVerifiedManifestAndLoadsBackTheSameScores) {
  auto m = bundle::verify(fx().bundle);
  EXPECT_EQ(m["format"], "clickprompt-bundle");
  EXPECT_EQ(m["format_version"], 1);
  EXPECT_EQ(m["kind"], "ctr");
  EXPECT_EQ(m["model"], "dcnv2");
  EXPECT_EQ(m["fields"].size(), fx().ds.fields.size());
  EXPECT_EQ(m["fields"][0]["display"], "User ID");
  for (const char* f : {"model.yaml", "vocab.json", "weights.safetensors"}) {
    ASSERT_TRUE(m["files"].contains(f)) << f;
    EXPECT_EQ(m["files"][f]["sha256"].get<std::string>().size(), 64u);
  }
  EXPECT_TRUE(m["created_from"]["test_auc"].is_number());
  // The bundle's scores of the test split are the run's: same AUC as its result.json.
  auto result = json::parse(core::read_file(fx().run + "/result.json"));
  auto p = fx().predicted();
  std::vector<float> s(p.begin(), p.end());
  auto labels = fx().ds.test.labels.contiguous();
  std::vector<float> l(labels.data_ptr<float>(), labels.data_ptr<float>() + labels.numel());
  EXPECT_NEAR(metrics::auc(s, l), result["test_auc"].get<double>(), 1e-4);
  // Loaded again, the model scores rows as predict wrote them.
  auto model = bundle::load(fx().bundle);
  std::vector<std::vector<std::string>> cols(fx().ds.fields.size());
  for (size_t f = 0; f < cols.size(); ++f)
    for (int64_t r = 0; r < 50; ++r) cols[f].push_back(fx().value(r, static_cast<int>(f)));
  auto scores = model->score(cols);
  for (int64_t r = 0; r < 50; ++r) EXPECT_NEAR(scores[r], p[r], 1e-6) << r;
}

TEST(Bundle, RefusesCorruptTruncatedMissingOrNewerFiles) {
  TempDir d("cp-bundle");
  auto copy = [&](const std::string& name) {
    std::filesystem::copy(fx().bundle, d.file(name), std::filesystem::copy_options::recursive);
    return d.file(name);
  };
  // One flipped byte in the weights: named, never a result.
  auto flipped = copy("flipped");
  {
    std::fstream f(flipped + "/weights.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-9, std::ios::end);
    char c;
    f.get(c);
    f.seekp(-9, std::ios::end);
    f.put(static_cast<char>(c ^ 0x10));
  }
  auto e = test_util::error_of([&] { bundle::load(flipped); });
  EXPECT_NE(e.find("weights.safetensors is corrupt"), std::string::npos) << e;
  EXPECT_NE(e.find("export it again"), std::string::npos) << e;
  // Truncated vocabulary.
  auto cut = copy("cut");
  std::filesystem::resize_file(cut + "/vocab.json", 10);
  e = test_util::error_of([&] { bundle::load(cut); });
  EXPECT_NE(e.find("vocab.json has 10 bytes"), std::string::npos) << e;
  // A missing file, a newer format, not a bundle.
  auto missing = copy("missing");
  std::filesystem::remove(missing + "/model.yaml");
  e = test_util::error_of([&] { bundle::load(missing); });
  EXPECT_NE(e.find("model.yaml is missing"), std::string::npos) << e;
  auto newer = copy("newer");
  auto m = json::parse(core::read_file(newer + "/manifest.json"));
  m["format_version"] = 2;
  core::atomic_write_string(newer + "/manifest.json", m.dump());
  e = test_util::error_of([&] { bundle::load(newer); });
  EXPECT_NE(e.find("format version 2"), std::string::npos) << e;
  e = test_util::error_of([&] { bundle::load(d.path()); });
  EXPECT_NE(e.find("no manifest.json"), std::string::npos) << e;
  // Export refuses to overwrite a folder that is not a bundle, and leaves no temp folder.
  std::filesystem::create_directories(d.file("other"));
  d.write("other/file.txt", "keep me");
  e = test_util::error_of([&] { train::export_run(fx().run, d.file("other")); });
  EXPECT_NE(e.find("not a bundle"), std::string::npos) << e;
  EXPECT_EQ(core::read_file(d.file("other/file.txt")), "keep me");
  // Re-exporting over a bundle replaces it.
  train::export_run(fx().run, missing);
  EXPECT_NO_THROW(bundle::load(missing));
  for (const auto& entry : std::filesystem::directory_iterator(d.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

TEST(InferenceProtocol, ParsesFlatAndNestedDataAndNamesEveryProblem) {
  std::vector<data::FieldMeta> fields = {{"user", "User", {}}, {"item", "Item", {}}};
  auto r = serve::parse_infer_request(
      R"({"id":"7","inputs":[{"name":"item","datatype":"BYTES","shape":[2,1],"data":[["a"],["b"]]},)"
      R"({"name":"user","datatype":"BYTES","shape":[2],"data":["1",2]}],"outputs":[{"name":"probability"}]})",
      fields);
  EXPECT_EQ(r.rows, 2);
  EXPECT_EQ(r.id, "7");
  EXPECT_EQ(r.columns[0], (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(r.columns[1], (std::vector<std::string>{"a", "b"}));
  auto problem = [&](const std::string& body) {
    try {
      serve::parse_infer_request(body, fields);
    } catch (const serve::RequestError& e) {
      return std::to_string(e.status()) + " " + e.what();
    }
    return std::string("accepted");
  };
  const std::string u = R"({"name":"user","datatype":"BYTES","shape":[1],"data":["1"]})";
  const std::string i = R"({"name":"item","datatype":"BYTES","shape":[1],"data":["a"]})";
  EXPECT_EQ(problem("{\"inputs\": ["), "400 malformed JSON in the request body");
  EXPECT_EQ(problem("[1]"), "400 the request body must be a JSON object with 'inputs'");
  EXPECT_EQ(problem("{}"), "400 the request has no 'inputs'");
  EXPECT_EQ(problem("{\"inputs\":[" + u + "]}"), "400 missing input(s) item (every field is an input)");
  EXPECT_EQ(problem("{\"inputs\":[" + u + "," + i + "," + R"({"name":"zip","datatype":"BYTES","shape":[1],"data":["x"]}]})"),
            "400 unknown input 'zip' (the model's inputs: user, item)");
  EXPECT_EQ(problem("{\"inputs\":[" + u + "," + u + "]}"), "400 input 'user' is given twice");
  EXPECT_EQ(problem(R"({"inputs":[{"name":"user","datatype":"FP32","shape":[1],"data":[1.0]},)" + i + "]}"),
            "400 input 'user' has datatype FP32, expected BYTES");
  EXPECT_EQ(problem(R"({"inputs":[{"name":"user","datatype":"BYTES","shape":[1,2],"data":["1","2"]},)" + i + "]}"),
            "400 input 'user': shape [1,2], expected [N] or [N, 1]");
  EXPECT_EQ(problem(R"({"inputs":[{"name":"user","datatype":"BYTES","shape":[2],"data":["1"]},)" + i + "]}"),
            "400 input 'user': shape [2] needs 2 elements, data has 1");
  EXPECT_EQ(problem(R"({"inputs":[{"name":"user","datatype":"BYTES","shape":[2],"data":["1","2"]},)" + i + "]}"),
            "400 input 'item' has 1 rows, other inputs 2");
  EXPECT_EQ(problem(R"({"inputs":[{"name":"user","datatype":"BYTES","shape":[1],"data":[null]},)" + i + "]}"),
            "400 input 'user': element 0 is null, expected a string (datatype BYTES)");
  EXPECT_EQ(problem("{\"inputs\":[" + u + "," + i + "],\"outputs\":[{\"name\":\"logit\"}]}"),
            "400 unknown output 'logit' (the model has one output: probability)");
  EXPECT_EQ(problem(R"({"inputs":[{"name":"user","datatype":"BYTES","shape":[-1],"data":[]},)" + i + "]}"),
            "400 input 'user': shape [-1] must hold non-negative integers");
  try {
    serve::parse_infer_request("{\"inputs\":[" + u + "," + i + "]}", fields, 0);
    ADD_FAILURE() << "accepted more rows than allowed";
  } catch (const serve::RequestError& e) {
    EXPECT_EQ(e.status(), 413);
  }
  // The answer: FP32 probabilities that read back as the same floats.
  auto out = json::parse(serve::infer_response("m", r, {0.25f, 0.123456789f}));
  EXPECT_EQ(out["model_name"], "m");
  EXPECT_EQ(out["id"], "7");
  EXPECT_EQ(out["outputs"][0]["shape"], json::array({2}));
  EXPECT_EQ(out["outputs"][0]["data"][1].get<float>(), 0.123456789f);
}

TEST(Batcher, MergesConcurrentRequestsIntoOnePassAndSplitsTheScoresBack) {
  std::atomic<int> passes{0};
  std::atomic<int64_t> max_rows{0};
  serve::BatcherOptions o;
  o.max_batch_size = 64;
  o.max_queue_delay = std::chrono::microseconds(20000);
  serve::Batcher b(
      [&](const serve::Columns& c) {
        ++passes;
        std::vector<float> s;
        for (const auto& v : c[0]) s.push_back(std::stof(v));
        return s;
      },
      o, [&](int64_t rows, int64_t) { max_rows = std::max<int64_t>(max_rows, rows); });
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 5; ++k) {
        serve::Columns c(1);
        for (int r = 0; r < 3; ++r) c[0].push_back(std::to_string(t * 100 + k * 10 + r));
        auto s = b.submit(c);
        for (int r = 0; r < 3; ++r) wrong += s[r] != static_cast<float>(t * 100 + k * 10 + r);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_LT(passes, 80);  // 80 requests, merged
  EXPECT_LE(max_rows, 64);
  // A failing pass fails each of its requests, and the batcher goes on.
  serve::Batcher failing([](const serve::Columns&) -> std::vector<float> { throw Error("model broke"); }, o);
  EXPECT_EQ(test_util::error_of([&] { failing.submit({{"1"}}); }), "model broke");
  b.stop();
  EXPECT_NE(test_util::error_of([&] { b.submit({{"1"}}); }).find("shutting down"), std::string::npos);
}

TEST(Server, SpeaksTheV2ProtocolAndScoresAsPredictDoes) {
  LiveServer s;
  auto c = s.client();
  auto live = c.Get("/v2/health/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(json::parse(live->body)["live"], true);
  EXPECT_EQ(c.Get("/v2/health/ready")->status, 200);
  EXPECT_EQ(json::parse(c.Get("/v2/models/m/ready")->body)["ready"], true);
  EXPECT_EQ(json::parse(c.Get("/v2")->body)["name"], "clickprompt");
  auto meta = json::parse(c.Get("/v2/models/m")->body);
  ASSERT_EQ(meta["inputs"].size(), fx().ds.fields.size());
  EXPECT_EQ(meta["inputs"][0]["name"], "user_id");
  EXPECT_EQ(meta["inputs"][0]["datatype"], "BYTES");
  EXPECT_EQ(meta["inputs"][0]["shape"], json::array({-1}));
  EXPECT_EQ(meta["outputs"][0]["name"], "probability");
  EXPECT_EQ(meta["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(c.Get("/v2/models/m/versions/1")->status, 200);

  // Rows one at a time and 300 at once: the scores predict wrote for them.
  auto p = fx().predicted();
  for (int64_t r = 0; r < 20; ++r) {
    auto res = c.Post("/v2/models/m/infer", request_rows(r, r + 1).dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    auto out = json::parse(res->body);
    EXPECT_EQ(out["id"], "t");
    EXPECT_NEAR(out["outputs"][0]["data"][0].get<double>(), p[r], 1e-6) << r;
  }
  auto big = c.Post("/v2/models/m/versions/1/infer", request_rows(0, 300).dump(), "application/json");
  ASSERT_EQ(big->status, 200);
  auto data = json::parse(big->body)["outputs"][0]["data"];
  ASSERT_EQ(data.size(), 300u);
  for (int64_t r = 0; r < 300; ++r) EXPECT_NEAR(data[r].get<double>(), p[r], 1e-6) << r;

  // Unseen values take the out-of-vocabulary id, as in training: two different unseen values score alike.
  auto req = request_rows(0, 1);
  req["inputs"][3]["data"][0] = "never-seen-item-1";
  auto a = json::parse(c.Post("/v2/models/m/infer", req.dump(), "application/json")->body);
  req["inputs"][3]["data"][0] = "never-seen-item-2";
  auto b = json::parse(c.Post("/v2/models/m/infer", req.dump(), "application/json")->body);
  EXPECT_EQ(a["outputs"][0]["data"][0], b["outputs"][0]["data"][0]);

  // Metrics: requests by model and code, latency and batch-size histograms, rows, load time.
  auto metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("clickprompt_requests_total{model=\"m\",code=\"200\"}"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("clickprompt_request_duration_seconds_bucket{model=\"m\",le=\"0.001\"}"), std::string::npos);
  EXPECT_NE(metrics.find("clickprompt_batch_size_count{model=\"m\"} 23"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("clickprompt_rows_total{model=\"m\"} 322"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("clickprompt_model_load_seconds{model=\"m\"} 0.1"), std::string::npos);
}

TEST(Server, RefusesBadRequestsWithJsonErrorsAndKeepsScoring) {
  serve::ServerOptions o;
  o.max_body_bytes = 4096;
  LiveServer s(o);
  auto c = s.client();
  auto post = [&](const std::string& path, const std::string& body) {
    auto r = c.Post(path, body, "application/json");
    EXPECT_TRUE(r);
    return std::make_pair(r ? r->status : -1, r ? r->body : "");
  };
  auto [code, body] = post("/v2/models/m/infer", "{not json");
  EXPECT_EQ(code, 400);
  EXPECT_EQ(json::parse(body)["error"], "malformed JSON in the request body");
  auto req = request_rows(0, 2);
  req["inputs"].erase(2);
  std::tie(code, body) = post("/v2/models/m/infer", req.dump());
  EXPECT_EQ(code, 400);
  EXPECT_NE(json::parse(body)["error"].get<std::string>().find("missing input(s) region"), std::string::npos) << body;
  std::tie(code, body) = post("/v2/models/nope/infer", request_rows(0, 1).dump());
  EXPECT_EQ(code, 404);
  EXPECT_NE(json::parse(body)["error"].get<std::string>().find("unknown model 'nope' (serving: m)"), std::string::npos);
  std::tie(code, body) = post("/v2/models/m/versions/3/infer", request_rows(0, 1).dump());
  EXPECT_EQ(code, 404);
  std::tie(code, body) = post("/v2/models/m/infer", request_rows(0, 200).dump());  // over 4096 bytes
  EXPECT_EQ(code, 413);
  EXPECT_EQ(json::parse(body)["error"], "request body too large");
  auto nowhere = c.Get("/v3/nothing");
  EXPECT_EQ(nowhere->status, 404);
  EXPECT_TRUE(json::parse(nowhere->body).contains("error"));
  // Still serving the right answers.
  std::tie(code, body) = post("/v2/models/m/infer", request_rows(5, 6).dump());
  ASSERT_EQ(code, 200);
  EXPECT_NEAR(json::parse(body)["outputs"][0]["data"][0].get<double>(), fx().predicted()[5], 1e-6);
  auto metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("clickprompt_requests_total{model=\"m\",code=\"400\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("clickprompt_requests_total{model=\"\",code=\"404\"}"), std::string::npos) << metrics;
}

TEST(Server, BatchesConcurrentClientsAndDrainsOnStop) {
  serve::ServerOptions o;
  o.batching.max_batch_size = 64;
  o.batching.max_queue_delay = std::chrono::microseconds(3000);
  auto s = std::make_unique<LiveServer>(o);
  auto p = fx().predicted();
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t)
    clients.emplace_back([&, t] {
      auto c = s->client();
      for (int k = 0; k < 10; ++k) {
        const int64_t r = t * 10 + k;
        auto res = c.Post("/v2/models/m/infer", request_rows(r, r + 1).dump(), "application/json");
        if (!res || res->status != 200) {
          ++failed;
          ADD_FAILURE() << "k=" << k << " " << (res ? std::to_string(res->status) + " " + res->body : httplib::to_string(res.error()));
          continue;
        }
        wrong += std::abs(json::parse(res->body)["outputs"][0]["data"][0].get<double>() - p[r]) > 1e-6;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(wrong, 0);
  auto metrics = s->client().Get("/metrics")->body;
  // 160 requests in fewer passes: the batch-requests histogram has fewer observations than requests.
  const std::string key = "clickprompt_batch_requests_count{model=\"m\"} ";
  auto at = metrics.find(key);
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(std::atoi(metrics.c_str() + at + key.size()), 160) << metrics.substr(at, 80);
  // A request in flight when stop() comes is still answered.
  std::thread late([&] {
    auto c = s->client();
    auto res = c.Post("/v2/models/m/infer", request_rows(0, fx().ds.test.rows).dump(), "application/json");
    EXPECT_TRUE(res && res->status == 200);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  s.reset();  // stop + join: returns only after the late request is done
  late.join();
}

TEST(ServeCli, ServesABundleAndExitsZeroOnSigterm) {
  // Everything the child needs is made before the fork (the fixture trains with torch's threads).
  const std::string model_arg = "m=" + fx().bundle;
  const std::string body = request_rows(3, 4).dump();
  const double expected = fx().predicted()[3];
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(CP_CLI_PATH, CP_CLI_PATH, "--threads", "1", "serve", "--model", model_arg.c_str(), "--port", "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char ch;
  pollfd pfd{out[0], POLLIN, 0};
  while (poll(&pfd, 1, 60000) == 1 && read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
  if (line.rfind("listening on 127.0.0.1:", 0) != 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  ASSERT_EQ(line.rfind("listening on 127.0.0.1:", 0), 0u) << line;
  const int port = std::stoi(line.substr(line.rfind(':') + 1));
  httplib::Client c("127.0.0.1", port);
  auto res = c.Post("/v2/models/m/infer", body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NEAR(json::parse(res->body)["outputs"][0]["data"][0].get<double>(), expected, 1e-6);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  close(out[0]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Predict, StreamsCsvAndGzipJsonLinesInChunksWithTheSameScores) {
  TempDir d("cp-predict");
  // The test split as JSON lines, gzip-compressed, and a chunk size that does not divide it.
  std::string jl;
  const int64_t n = fx().ds.test.rows;
  for (int64_t r = 0; r < n; ++r) {
    json row;
    for (size_t f = 0; f < fx().ds.fields.size(); ++f) row[fx().ds.fields[f].name] = fx().value(r, static_cast<int>(f));
    row["label"] = fx().ds.test.labels[r].item<float>() > 0.5 ? 1 : 0;
    jl += row.dump() + "\n";
  }
  d.write("rows.jsonl", jl);
  ASSERT_EQ(std::system(("gzip -k " + d.file("rows.jsonl")).c_str()), 0);
  auto model = bundle::load(fx().bundle);
  serve::PredictOptions po;
  po.progress = false;
  po.chunk_rows = 37;
  auto st = serve::predict_file(*model, d.file("rows.jsonl.gz"), d.file("jl.csv"), po);
  EXPECT_EQ(st.rows, n);
  auto t = data::read_csv(d.file("jl.csv"), {}, {"score", "label"});
  auto p = fx().predicted();
  ASSERT_EQ(t.numbers["score"].size(), p.size());
  for (size_t r = 0; r < p.size(); ++r) EXPECT_NEAR(t.numbers["score"][r], p[r], 1e-6) << r;
  // Errors name the file and line; nothing is left behind.
  d.write("bad.csv", "user_id,age\n1,2\n");
  auto e = test_util::error_of([&] { serve::predict_file(*model, d.file("bad.csv"), d.file("bad_out.csv"), po); });
  EXPECT_NE(e.find("bad.csv:1: the header lacks the model's field(s) region"), std::string::npos) << e;
  d.write("bad.jsonl", "{\"user_id\": \"1\"}\n");
  e = test_util::error_of([&] { serve::predict_file(*model, d.file("bad.jsonl"), d.file("bad_out.csv"), po); });
  EXPECT_NE(e.find("bad.jsonl:1: no field 'age'"), std::string::npos) << e;
  EXPECT_FALSE(core::file_exists(d.file("bad_out.csv")));
  for (const auto& entry : std::filesystem::directory_iterator(d.path()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}
