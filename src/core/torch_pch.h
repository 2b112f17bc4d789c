// Precompiled header: the torch C++ frontend and the standard library pieces
// almost every translation unit uses. Only .cpp files see it (never include it
// from a header).
#pragma once
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
