#pragma once
// SHA-256 (OpenSSL's libcrypto) of bytes and of files, as lowercase hex: the
// checksums a model bundle's manifest lists for every file it holds, and the
// seals of every other file the tool writes and reads back.
#include <nlohmann/json.hpp>
#include <functional>
#include <string>
#include <string_view>

namespace clickprompt::core {

std::string sha256_hex(std::string_view data);
// Streams the file; throws Error when it cannot be read.
std::string sha256_file(const std::string& path);

// Sealed files: everything the tool writes and later reads back (checkpoints,
// data caches, run configs, results, metrics logs) has `FILE.sha256` beside it
// in sha256sum's format ("<hex>  <name>": `sha256sum -c FILE.sha256` checks it
// too), written with it and verified on every read. A flipped byte is then a
// CorruptFile error naming the file and `hint` (what to do), never a result.
//
// Written as: the file via temp + rename (core::atomic_write), its seal's temp
// before that rename, the seal renamed last. A kill between the two renames
// leaves the new file with the old seal and the new seal's temp: verification
// finds that temp, checks it and completes the rename.
void write_sealed(const std::string& path, std::string_view content);
void write_sealed(const std::string& path, const std::function<void(const std::string& tmp_path)>& writer);
std::string read_sealed(const std::string& path, const std::string& hint);
// read_sealed of a JSON object (result.json); CorruptFile with `hint` when it is not one.
nlohmann::json read_sealed_json(const std::string& path, const std::string& hint);
// Verifies a file (streamed) against its seal; for files read another way (mmap, torch).
void verify_sealed(const std::string& path, const std::string& hint);
void verify_sealed(const std::string& path, std::string_view content, const std::string& hint);
std::string seal_path(const std::string& path);

// Removes `*.tmp.<pid>` files in `dir` whose process is gone (a killed or crashed
// writer's leftovers), after completing any interrupted seal. Returns how many.
int clean_temp_files(const std::string& dir);

}  // namespace clickprompt::core
