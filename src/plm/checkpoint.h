#pragma once
// Checkpoint I/O with HuggingFace names: safetensors (own reader and writer)
// and PyTorch `pytorch_model.bin` (zip format, read with torch::pickle_load).
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "plm/encoder.h"
#include "plm/hf_config.h"

namespace clickprompt::plm {

using StateDict = std::map<std::string, torch::Tensor>;

// safetensors: u64 little-endian header size N, N bytes of JSON header, data.
// Every entry is validated (dtype, shape, offsets inside the buffer, sizes,
// no overlap, buffer fully covered); a bad file throws Error naming the file
// and the tensor. Tensors come back on the CPU, contiguous.
StateDict read_safetensors(const std::string& path);
// Writes tensors sorted by name, header padded with spaces to 8 bytes, via a
// temp file + rename. `metadata` goes to "__metadata__".
void write_safetensors(const std::string& path, const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});
// torch.save() zip checkpoints (HF pytorch_model.bin): a dict name -> tensor.
StateDict read_torch_bin(const std::string& path);
// By extension: .safetensors or anything else as a torch zip file.
StateDict read_checkpoint_file(const std::string& path);

struct LoadOptions {
  bool allow_missing = false;    // otherwise missing tensors throw Error (listing them)
  bool allow_unexpected = true;  // otherwise unexpected tensors throw Error
};

struct LoadReport {
  std::string source;
  std::vector<std::string> loaded;      // model parameter names that were set
  std::vector<std::string> missing;     // model parameters without a tensor in the checkpoint
  std::vector<std::string> unexpected;  // checkpoint tensors the model has no place for
  std::vector<std::string> ignored;     // known-unused: position_ids buffers, pooler, NSP head, tied duplicates
  std::string summary() const;
};

// Copies `sd` into `model`'s parameters by HF name. Handles: base-model
// checkpoints without the "roberta."/"bert." prefix (and the reverse), old
// LayerNorm gamma/beta names, tied decoder weight/bias duplicates, dtype
// conversion. Shape mismatches always throw Error listing every one.
LoadReport load_state_dict(torch::nn::Module& model, const StateDict& sd, const std::string& source,
                           const LoadOptions& opt = {});

// Loads an HF folder: config.json + model.safetensors (preferred) or
// pytorch_model.bin. The model is in eval mode on `device`.
MaskedLm load_pretrained(const std::string& dir, const torch::Device& device = torch::kCPU, bool with_head = true,
                         LoadReport* report = nullptr, const LoadOptions& opt = {});

// Parameters by HF name, on the CPU (tied duplicates are not repeated).
StateDict state_dict(torch::nn::Module& model);
// Writes <dir>/model.safetensors and <dir>/config.json (atomic writes), HF-loadable.
void save_pretrained(MaskedLm& model, const std::string& dir);

// HF initialisation for training from scratch: N(0, std) weights, zero
// biases, LayerNorm (1, 0), zero padding row of the word embeddings.
void init_weights(MaskedLm& model, double std = 0.02, uint64_t seed = 0);

}  // namespace clickprompt::plm
