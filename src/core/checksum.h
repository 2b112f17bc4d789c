#pragma once
// SHA-256 (OpenSSL's libcrypto) of bytes and of files, as lowercase hex: the
// checksums a model bundle's manifest lists for every file it holds.
#include <string>
#include <string_view>

namespace clickprompt::core {

std::string sha256_hex(std::string_view data);
// Streams the file; throws Error when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace clickprompt::core
