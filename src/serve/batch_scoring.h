#pragma once
// Streaming batch scoring (`clickprompt predict`): a CSV (header naming the
// fields) or JSON-lines file (one object per row, keys = field names), plain
// or gzip, is read in chunks of rows, scored through a bundle's model and
// written as CSV (score, and label when the input has one) via a temp file
// renamed at the end. Memory is bounded by the chunk, not by the file.
#include <cstdint>
#include <string>

#include "bundle/bundle.h"

namespace clickprompt::serve {

struct PredictOptions {
  int64_t chunk_rows = 65536;  // rows read, scored and written at a time
  bool progress = true;
  std::string format = "auto";  // auto (by extension: .jsonl/.ndjson/.json[.gz] are JSON lines) | csv | jsonl
};

struct PredictStats {
  int64_t rows = 0;
  double seconds = 0;
};

PredictStats predict_file(bundle::Model& model, const std::string& in_path, const std::string& out_path,
                          const PredictOptions& opt = {});

}  // namespace clickprompt::serve
